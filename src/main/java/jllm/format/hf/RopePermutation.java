package jllm.format.hf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import jllm.tensor.Tensor;

/**
 * The one place where the row order of the query and key projections is converted between Hugging Face's LLaMA
 * layout and GGUF's.
 *
 * <p>Rotary embeddings rotate pairs of a head's dimensions. Hugging Face's LLaMA ({@code rotate_half}) pairs
 * dimension {@code i} with {@code i + headDim/2} (the half-split, GPT-NeoX layout: jllm's
 * {@link jllm.model.ModelConfig.RopeType#NEOX}); Meta's original checkpoints and GGUF {@code llama} files pair
 * {@code 2i} with {@code 2i+1} (interleaved: {@link jllm.model.ModelConfig.RopeType#NORM}). Hugging Face's
 * converter permuted the rows of {@code q_proj} and {@code k_proj} from the interleaved layout to the half-split one,
 * and llama.cpp's convert_hf_to_gguf.py undoes it with
 * <pre>
 *   permute(w, n_head) = w.reshape(n_head, 2, rows / n_head / 2, cols).swapaxes(1, 2).reshape(rows, cols)
 * </pre>
 * ({@code LlamaModel.permute}; for k_proj with {@code n_head = num_key_value_heads}). Within head {@code h} of
 * width {@code d}, with {@code s} in {0, 1} and {@code i} in [0, d/2):
 * <pre>
 *   GGUF row  h*d + 2*i + s   =   HF row  h*d + s*(d/2) + i
 * </pre>
 * Either layout gives the same attention scores when RoPE pairs dimensions to match (a permutation of the head's
 * dimensions applied to both q and k leaves q.k unchanged), so a model can run in either; jllm runs Hugging Face
 * weights as they are, with NEOX, and uses this permutation only when converting between the formats. The same
 * row permutation applies to q and k biases and to the rows of LoRA B matrices of q_proj and k_proj.
 */
public final class RopePermutation {
    private RopePermutation() {}

    /** The GGUF (interleaved) row that Hugging Face (half-split) row {@code r} of a {@code rows}-row q/k matrix becomes. */
    public static int hfToGgufRow(int r, int rows, int nHeads) {
        int d = headDim(rows, nHeads);
        if (r < 0 || r >= rows) throw new IndexOutOfBoundsException("row " + r + " of " + rows);
        int h = r / d, w = r % d, s = w / (d / 2), i = w % (d / 2);
        return h * d + 2 * i + s;
    }

    /** The Hugging Face (half-split) row that GGUF (interleaved) row {@code g} becomes: the inverse of {@link #hfToGgufRow}. */
    public static int ggufToHfRow(int g, int rows, int nHeads) {
        int d = headDim(rows, nHeads);
        if (g < 0 || g >= rows) throw new IndexOutOfBoundsException("row " + g + " of " + rows);
        int h = g / d, w = g % d, i = w / 2, s = w % 2;
        return h * d + s * (d / 2) + i;
    }

    /** llama.cpp's {@code permute}: the rows of a Hugging Face q/k weight reordered into GGUF's layout (a copy, same type). */
    public static Tensor hfToGguf(Tensor w, int nHeads) {
        return permuteRows(w, nHeads, true);
    }

    /** The inverse of {@link #hfToGguf(Tensor, int)}: GGUF rows reordered into Hugging Face's layout (a copy, same type). */
    public static Tensor ggufToHf(Tensor w, int nHeads) {
        return permuteRows(w, nHeads, false);
    }

    /** {@link #hfToGguf(Tensor, int)} for a row-major float matrix of {@code cols} columns (a bias: cols = 1). */
    public static float[] hfToGguf(float[] m, int cols, int nHeads) {
        return permuteRows(m, cols, nHeads, true);
    }

    /** {@link #ggufToHf(Tensor, int)} for a row-major float matrix of {@code cols} columns (a bias: cols = 1). */
    public static float[] ggufToHf(float[] m, int cols, int nHeads) {
        return permuteRows(m, cols, nHeads, false);
    }

    private static Tensor permuteRows(Tensor w, int nHeads, boolean toGguf) {
        int rows = w.rows();
        long rowBytes = w.rowBytes();
        MemorySegment out = Arena.ofAuto().allocate(w.data().byteSize(), 64);
        for (int r = 0; r < rows; r++) {
            int dst = toGguf ? hfToGgufRow(r, rows, nHeads) : ggufToHfRow(r, rows, nHeads);
            MemorySegment.copy(w.data(), r * rowBytes, out, dst * rowBytes, rowBytes);
        }
        return Tensor.of(w.name(), w.type(), out, w.ne());
    }

    private static float[] permuteRows(float[] m, int cols, int nHeads, boolean toGguf) {
        if (cols <= 0 || m.length % cols != 0) {
            throw new IllegalArgumentException(m.length + " values are not rows of " + cols + " columns");
        }
        int rows = m.length / cols;
        float[] out = new float[m.length];
        for (int r = 0; r < rows; r++) {
            int dst = toGguf ? hfToGgufRow(r, rows, nHeads) : ggufToHfRow(r, rows, nHeads);
            System.arraycopy(m, r * cols, out, dst * cols, cols);
        }
        return out;
    }

    private static int headDim(int rows, int nHeads) {
        if (nHeads <= 0 || rows % nHeads != 0 || (rows / nHeads) % 2 != 0) {
            throw new IllegalArgumentException(rows + " rows are not " + nHeads + " heads of an even width");
        }
        return rows / nHeads;
    }
}
