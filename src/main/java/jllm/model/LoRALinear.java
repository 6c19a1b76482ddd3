package jllm.model;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

import jllm.tensor.GGMLType;
import jllm.tensor.Tensor;

/**
 * The low-rank update of one frozen linear projection (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
 * Models", Sec. 4.1, eq. 3), as PEFT computes it ({@code result + lora_B(lora_A(dropout(x))) * scaling}):
 * <pre>
 *   forward:   y (T, out) += scaling * dropout(x) A^T B^T          x (T, in), A (r, in), B (out, r)
 *   backward:  u  = scaling * xd A^T                    (T, r)     xd = dropout(x), recomputed, not kept
 *              dB += dy^T u                             (out, r)
 *              du = scaling * dy B                      (T, r)
 *              dA += du^T xd                            (r, in)
 *              dx += dropout'(du A)                     (T, in)    the mask and 1/(1-p) of the forward
 * </pre>
 * The base weight's own product and its input gradient are the model's ({@link Linear#apply},
 * {@link Linear#backward} with no weight gradient: the base is frozen); this class adds only the LoRA path, so dx
 * gets both. Nothing of the forward is kept: the backward recomputes u from the block input the model keeps anyway
 * (r columns, a small fraction of the base product), so LoRA adds no per-layer activations.
 *
 * <p>Dropout (Srivastava et al. 2014) on the LoRA input, only in the training forward of an adapter being trained
 * (the model decides; an adapter that is only applied, e.g. for evaluation, never drops): element i of row t is
 * dropped when a counter-based hash of (seed, this module's stream, t * in + i) falls below p, and kept ones are scaled by
 * 1/(1 - p); the mask is a pure function of its arguments, so the backward (and a recomputing backward) sees the
 * forward's mask without storing it, whatever the thread count. GPT-2's fused c_attn is one PEFT module adapted as
 * three of these (its Q, K and V row blocks of B) that share A, A's gradient and the dropout stream.
 */
public final class LoRALinear {
    private final int layer, r, in, out;
    private final Projection projection;
    private final String nameA, nameB;
    private final float[] a, b;          // (r, in), (out, r) row-major: PEFT's lora_A.weight, lora_B.weight
    private final float[] gradA, gradB;  // same shapes, or null when not trained
    private final float scaling, dropout;
    private final long stream;
    private final Tensor aView, bView;   // F32 views of a and b for the matrix kernels

    /**
     * @param nameA, nameB names of A and B (for optimizer state and checkpoints), e.g. {@code blk.0.attn_q.lora_a}
     * @param gradA, gradB gradient arrays of the same sizes, or null for an adapter that is only applied
     * @param dropout      probability in [0, 1) of dropping an input element in training
     */
    public LoRALinear(int layer, Projection projection, int r, int in, int out, String nameA, float[] a, float[] gradA,
                      String nameB, float[] b, float[] gradB, double scaling, double dropout) {
        this.projection = Objects.requireNonNull(projection);
        if (layer < 0 || r <= 0 || in <= 0 || out <= 0) {
            throw new IllegalArgumentException("LoRA on layer " + layer + " " + projection + ": r " + r + ", in " + in + ", out " + out);
        }
        if (a.length != (long) r * in || b.length != (long) out * r) {
            throw new IllegalArgumentException(nameA + " / " + nameB + ": " + a.length + " and " + b.length
                    + " values for A (" + r + ", " + in + ") and B (" + out + ", " + r + ")");
        }
        if (gradA != null && gradA.length != a.length || gradB != null && gradB.length != b.length) {
            throw new IllegalArgumentException(nameA + ": gradient arrays do not match A and B");
        }
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout " + dropout + " must be in [0, 1)");
        if (!Double.isFinite(scaling)) throw new IllegalArgumentException("LoRA scaling " + scaling + " is not finite");
        this.layer = layer;
        this.r = r;
        this.in = in;
        this.out = out;
        this.nameA = nameA;
        this.nameB = nameB;
        this.a = a;
        this.b = b;
        this.gradA = gradA;
        this.gradB = gradB;
        this.scaling = (float) scaling;
        this.dropout = (float) dropout;
        this.stream = mix(nameA.hashCode() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        this.aView = Tensor.of(nameA, GGMLType.F32, MemorySegment.ofArray(a), in, r);
        this.bView = Tensor.of(nameB, GGMLType.F32, MemorySegment.ofArray(b), r, out);
    }

    public int layer() { return layer; }
    public Projection projection() { return projection; }
    public int rank() { return r; }
    public int in() { return in; }
    public int out() { return out; }
    public float scaling() { return scaling; }
    public float dropout() { return dropout; }
    public String nameA() { return nameA; }
    public String nameB() { return nameB; }
    /** A (r, in), the live array. */
    public float[] a() { return a; }
    /** B (out, r), the live array. */
    public float[] b() { return b; }
    /** dL/dA, or null. */
    public float[] gradA() { return gradA; }
    /** dL/dB, or null. */
    public float[] gradB() { return gradB; }

    /**
     * y (T, out) += scaling * dropout(x) A^T B^T for x (T, in); dropout only when {@code training}, with the mask of
     * {@code seed}. Uses s's buffers.
     */
    public void forward(Linear linear, float[] y, float[] x, int T, Scratch s, boolean training, long seed) {
        float[] xd = dropped(linear, x, T, s, training, seed);
        lowRank(linear, s, xd, T);
        linear.apply(s.y, bView, s.u, T);
        float[] t = s.y;
        int n = out;
        linear.parallelRange(T, (from, to, worker) -> {
            for (int i = from * n; i < to * n; i++) y[i] += t[i];
        });
    }

    /**
     * The backward of {@link #forward} with the same x, T, training flag and seed: gradA and gradB (when present)
     * += the LoRA path's gradients, dx (T, in) += its input gradient (when dx is not null).
     */
    public void backward(Linear linear, float[] dx, float[] dy, float[] x, int T, Scratch s, boolean training, long seed) {
        boolean drop = training && dropout > 0;
        float[] xd = dropped(linear, x, T, s, training, seed);
        lowRank(linear, s, xd, T);                                  // u = scaling xd A^T
        java.util.Arrays.fill(s.du, 0, T * r, 0f);
        linear.backward(s.du, gradB, null, bView, dy, s.u, T);     // du = dy B, dB += dy^T u
        scale(s.du, T * r, scaling);                                // du = scaling dy B
        if (!drop) {
            linear.backward(dx, gradA, null, aView, s.du, xd, T);  // dx += du A, dA += du^T xd
            return;
        }
        java.util.Arrays.fill(s.dx, 0, T * in, 0f);
        linear.backward(dx == null ? null : s.dx, gradA, null, aView, s.du, xd, T);
        if (dx == null) return;
        float keep = 1f / (1f - dropout);
        float[] g = s.dx;
        linear.parallelRange(T, (from, to, worker) -> {
            for (int t = from; t < to; t++) {
                for (int i = 0; i < in; i++) {
                    int k = t * in + i;
                    if (kept(seed, k)) dx[k] += g[k] * keep;
                }
            }
        });
    }

    /** scaling * B A: the (out, in) row-major update of the base weight (summed in double), for merging. */
    public float[] delta() {
        float[] d = new float[Math.multiplyExact(out, in)];
        double[] row = new double[in];
        for (int o = 0; o < out; o++) {
            java.util.Arrays.fill(row, 0);
            for (int k = 0; k < r; k++) {
                double bk = b[o * r + k];
                for (int i = 0; i < in; i++) row[i] += bk * a[k * in + i];
            }
            for (int i = 0; i < in; i++) d[o * in + i] = (float) (scaling * row[i]);
        }
        return d;
    }

    /** x itself, or its dropped-out copy in s.x (training with p > 0). */
    private float[] dropped(Linear linear, float[] x, int T, Scratch s, boolean training, long seed) {
        if (!training || dropout == 0) return x;
        float keep = 1f / (1f - dropout);
        float[] xd = s.x;
        linear.parallelRange(T, (from, to, worker) -> {
            for (int t = from; t < to; t++) {
                for (int i = 0; i < in; i++) {
                    int k = t * in + i;
                    xd[k] = kept(seed, k) ? x[k] * keep : 0f;
                }
            }
        });
        return xd;
    }

    /** s.u (T, r) = scaling * xd A^T. */
    private void lowRank(Linear linear, Scratch s, float[] xd, int T) {
        linear.apply(s.u, aView, xd, T);
        scale(s.u, T * r, scaling);
    }

    private static void scale(float[] v, int n, float f) {
        for (int i = 0; i < n; i++) v[i] *= f;
    }

    /** Whether input element k (= t * in + i) survives dropout under {@code seed}. */
    boolean kept(long seed, int k) {
        long h = mix(mix(seed ^ stream) + k * 0x9E3779B97F4A7C15L);
        return (h >>> 40) * 0x1.0p-24f >= dropout;
    }

    /** SplitMix64's finaliser (Steele, Lea and Flood 2014): a bijective 64-bit mix. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Working buffers of the LoRA paths of one model (sized for its widest projection), allocated once. */
    public static final class Scratch {
        final float[] x, dx;   // (rows, maxIn) dropped-out input, and its gradient
        final float[] u, du;   // (rows, r)
        final float[] y;       // (rows, maxOut) the B product before it is added

        /** {@code dropout}: whether the training forward drops inputs (then x and dx are needed). */
        public Scratch(int rows, int maxIn, int maxOut, int r, boolean training, boolean dropout) {
            x = training && dropout ? new float[Math.multiplyExact(rows, maxIn)] : new float[0];
            dx = training && dropout ? new float[Math.multiplyExact(rows, maxIn)] : new float[0];
            u = new float[Math.multiplyExact(rows, r)];
            du = training ? new float[Math.multiplyExact(rows, r)] : new float[0];
            y = new float[Math.multiplyExact(rows, maxOut)];
        }

        /** Floats allocated: {@link jllm.sizes.Sizes#loraScratchBytes} / 4. */
        public long floats() {
            return (long) x.length + dx.length + u.length + du.length + y.length;
        }
    }
}
