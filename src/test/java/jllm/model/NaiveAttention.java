package jllm.model;

/**
 * The plain reference for attention: materialises the full score matrix, applies the causal mask, a softmax in
 * double precision, and multiplies by V. Used only to check {@link Attention}'s tiled online softmax.
 */
final class NaiveAttention {
    private NaiveAttention() {}

    /** out (T, qDim) for queries q (T, qDim) at positions startPos.., keys/values (startPos + T, kvDim). */
    static void forward(float[] out, float[] q, float[] keys, float[] values, int startPos, int T, ModelConfig c) {
        int hd = c.headDim(), qDim = c.qDim(), kvDim = c.kvDim(), nKeys = startPos + T;
        double scale = 1.0 / Math.sqrt(hd);
        for (int h = 0; h < c.nHeads(); h++) {
            int kvOff = (h / c.groupSize()) * hd;
            double[][] scores = new double[T][nKeys];
            for (int i = 0; i < T; i++) {
                for (int j = 0; j < nKeys; j++) {
                    if (j > startPos + i) {
                        scores[i][j] = Double.NEGATIVE_INFINITY; // causal mask
                        continue;
                    }
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double) q[i * qDim + h * hd + d] * keys[j * kvDim + kvOff + d];
                    scores[i][j] = s * scale;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (double s : scores[i]) max = Math.max(max, s);
                double sum = 0;
                for (int j = 0; j < nKeys; j++) {
                    scores[i][j] = Math.exp(scores[i][j] - max);
                    sum += scores[i][j];
                }
                for (int d = 0; d < hd; d++) {
                    double acc = 0;
                    for (int j = 0; j < nKeys; j++) acc += scores[i][j] / sum * values[j * kvDim + kvOff + d];
                    out[i * qDim + h * hd + d] = (float) acc;
                }
            }
        }
    }
}
