package jllm.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * ggml's reference K-quant quantizers (super-blocks of 256): Q4_K, Q5_K and Q6_K, with the scale searches
 * they use.
 *
 * <p>Spec: ggml {@code ggml-quants.c}: {@code nearest_int}, {@code make_qkx2_quants} (Q4_K: nmax 15, rmin -1,
 * rdelta 0.1, 20 steps; Q5_K: nmax 31, rmin -0.5, rdelta 0.1, 15 steps; weights av_x + |x| with
 * av_x = sqrt(mean x^2) of the 32-element sub-block), {@code make_qx_quants} (Q6_K: nmax 32, rmse_type 1, weights
 * x^2), {@code quantize_row_q4_K_ref}, {@code quantize_row_q5_K_ref}, {@code quantize_row_q6_K_ref}. The float
 * expressions keep the C evaluation order (left to right, int operands converted to float), with no FMA.
 */
final class KQuants {
    private KQuants() {}

    /** ggml's {@code GROUP_MAX_EPS}. */
    static final float GROUP_MAX_EPS = 1e-15f;

    /**
     * ggml's {@code nearest_int}: adds 1.5 * 2^23 in float arithmetic and reads the integer from the mantissa,
     * which rounds half to even; valid for |x| &lt;= 4194303.
     */
    static int nearestInt(float fval) {
        float val = fval + 12582912.f;
        int i = Float.floatToRawIntBits(val);
        return (i & 0x007fffff) - 0x00400000;
    }

    /**
     * {@code make_qkx2_quants}: an asymmetric quantization {@code x ~ scale * L - theMin} of {@code n} values with
     * {@code L in [0, nmax]}, searched over {@code nstep + 1} candidate inverse scales for the least weighted
     * error. Writes {@code L}, stores {@code -min} (non-negative) in {@code theMin[0]} and returns the scale.
     */
    static float makeQkx2Quants(int n, int nmax, float[] x, int xo, float[] weights, int[] L, int lo,
                                float[] theMin, int[] Laux, float rmin, float rdelta, int nstep, boolean useMad) {
        float min = x[xo];
        float max = x[xo];
        float sumW = weights[0];
        float sumX = sumW * x[xo];
        for (int i = 1; i < n; ++i) {
            if (x[xo + i] < min) min = x[xo + i];
            if (x[xo + i] > max) max = x[xo + i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[xo + i];
        }
        if (min > 0) min = 0;
        if (max == min) {
            for (int i = 0; i < n; ++i) L[lo + i] = 0;
            theMin[0] = -min;
            return 0.f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearestInt(iscale * (x[xo + i] - min));
            L[lo + i] = Math.max(0, Math.min(nmax, l));
            float diff = scale * L[lo + i] + min - x[xo + i];
            diff = useMad ? Math.abs(diff) : diff * diff;
            float w = weights[i];
            bestError += w * diff;
        }
        if (nstep < 1) {
            theMin[0] = -min;
            return scale;
        }
        for (int is = 0; is <= nstep; ++is) {
            iscale = (rmin + rdelta * is + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXl = 0;
            for (int i = 0; i < n; ++i) {
                int l = nearestInt(iscale * (x[xo + i] - min));
                l = Math.max(0, Math.min(nmax, l));
                Laux[i] = l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXl += w * l * x[xo + i];
            }
            float D = sumW * sumL2 - sumL * sumL;
            if (D > 0) {
                float thisScale = (sumW * sumXl - sumX * sumL) / D;
                float thisMin = (sumL2 * sumX - sumL * sumXl) / D;
                if (thisMin > 0) {
                    thisMin = 0;
                    thisScale = sumXl / sumL2;
                }
                float curError = 0;
                for (int i = 0; i < n; ++i) {
                    float diff = thisScale * Laux[i] + thisMin - x[xo + i];
                    diff = useMad ? Math.abs(diff) : diff * diff;
                    float w = weights[i];
                    curError += w * diff;
                }
                if (curError < bestError) {
                    for (int i = 0; i < n; ++i) L[lo + i] = Laux[i];
                    bestError = curError;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin[0] = -min;
        return scale;
    }

    /**
     * {@code make_qx_quants} with rmse_type 1 and no importance weights (weights x^2): a symmetric quantization
     * {@code x ~ scale * (L - nmax)}, {@code L in [0, 2 nmax)}, trying 19 inverse scales around {@code -nmax / max}.
     */
    static float makeQxQuants(int n, int nmax, float[] x, int xo, int[] L, int lo) {
        float max = 0;
        float amax = 0;
        for (int i = 0; i < n; ++i) {
            float ax = Math.abs(x[xo + i]);
            if (ax > amax) {
                amax = ax;
                max = x[xo + i];
            }
        }
        if (amax < GROUP_MAX_EPS) {
            for (int i = 0; i < n; ++i) L[lo + i] = 0;
            return 0.f;
        }
        float iscale = -nmax / max;
        float sumlx = 0;
        float suml2 = 0;
        for (int i = 0; i < n; ++i) {
            float xi = x[xo + i];
            int l = nearestInt(iscale * xi);
            l = Math.max(-nmax, Math.min(nmax - 1, l));
            L[lo + i] = l + nmax;
            float w = xi * xi;
            sumlx += w * xi * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0.0f;
        float best = scale * sumlx;
        for (int is = -9; is <= 9; ++is) {
            if (is == 0) continue;
            iscale = -(nmax + 0.1f * is) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; ++i) {
                float xi = x[xo + i];
                int l = nearestInt(iscale * xi);
                l = Math.max(-nmax, Math.min(nmax - 1, l));
                float w = xi * xi;
                sumlx += w * xi * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2) {
                for (int i = 0; i < n; ++i) {
                    int l = nearestInt(iscale * x[xo + i]);
                    L[lo + i] = nmax + Math.max(-nmax, Math.min(nmax - 1, l));
                }
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    private static void put(MemorySegment y, long off, int v) {
        y.set(ValueLayout.JAVA_BYTE, off, (byte) v);
    }

    private static int get(MemorySegment y, long off) {
        return y.get(ValueLayout.JAVA_BYTE, off) & 0xFF;
    }

    /**
     * The sub-block scales and mins of Q4_K / Q5_K ({@code quantize_row_q4_K_ref} and {@code _q5_K_ref} share
     * this part): 8 sub-blocks of 32 by {@code make_qkx2_quants}, the scales and mins quantized to 6 bits against
     * their maxima, packed into 12 bytes at {@code sc}, the super-block d and dmin written at {@code b}, and the
     * elements requantized against the stored scales into {@code L} (values in [0, nmax]).
     */
    private static void scalesAndMinsK(float[] x, int o, MemorySegment y, long b, int nmax, float rmin, int nstep, int[] L) {
        float[] weights = new float[32];
        float[] mins = new float[8];
        float[] scales = new float[8];
        int[] Laux = new int[32];
        float[] theMin = new float[1];
        float maxScale = 0;
        float maxMin = 0;
        for (int j = 0; j < 8; ++j) {
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) sumX2 += x[o + 32 * j + l] * x[o + 32 * j + l];
            float avX = (float) Math.sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = avX + Math.abs(x[o + 32 * j + l]);
            scales[j] = makeQkx2Quants(32, nmax, x, o + 32 * j, weights, L, 32 * j, theMin, Laux, rmin, 0.1f, nstep, false);
            mins[j] = theMin[0];
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63.f / maxScale : 0.f;
        float invMin = maxMin > 0 ? 63.f / maxMin : 0.f;
        long sc = b + 4;
        for (int j = 0; j < 12; j++) put(y, sc + j, 0);
        for (int j = 0; j < 8; ++j) {
            int ls = Math.min(63, nearestInt(invScale * scales[j]) & 0xFF);   // C: uint8_t ls = nearest_int(..)
            int lm = Math.min(63, nearestInt(invMin * mins[j]) & 0xFF);
            if (j < 4) {
                put(y, sc + j, ls);
                put(y, sc + j + 4, lm);
            } else {
                put(y, sc + j + 4, (ls & 0xF) | ((lm & 0xF) << 4));
                put(y, sc + j - 4, get(y, sc + j - 4) | ((ls >> 4) << 6));
                put(y, sc + j, get(y, sc + j) | ((lm >> 4) << 6));
            }
        }
        Quantize.putF16(y, b, maxScale / 63.f);
        Quantize.putF16(y, b + 2, maxMin / 63.f);
        float dAll = DequantizeScalar.f16(y, b);
        float dminAll = DequantizeScalar.f16(y, b + 2);
        for (int j = 0; j < 8; ++j) {
            float d = dAll * DequantizeScalar.scaleMinK4(y, sc, j, 0);
            if (d == 0) continue;
            float dm = dminAll * DequantizeScalar.scaleMinK4(y, sc, j, 1);
            for (int ii = 0; ii < 32; ++ii) {
                int l = nearestInt((x[o + 32 * j + ii] + dm) / d);
                L[32 * j + ii] = Math.max(0, Math.min(nmax, l));
            }
        }
    }

    /** {@code quantize_row_q4_K_ref} for one super-block of 256 floats at {@code x[o]} into 144 bytes at {@code b}. */
    static void q4_K(float[] x, int o, MemorySegment y, long b) {
        int[] L = new int[256];
        scalesAndMinsK(x, o, y, b, 15, -1.f, 20, L);
        long q = b + 16;
        for (int j = 0; j < 256; j += 64) {
            for (int l = 0; l < 32; ++l) put(y, q + l, L[j + l] | (L[j + l + 32] << 4));
            q += 32;
        }
    }

    /** {@code quantize_row_q5_K_ref} for one super-block of 256 floats at {@code x[o]} into 176 bytes at {@code b}. */
    static void q5_K(float[] x, int o, MemorySegment y, long b) {
        int[] L = new int[256];
        scalesAndMinsK(x, o, y, b, 31, -0.5f, 15, L);
        long qh = b + 16;
        long ql = b + 48;
        int[] h = new int[32];
        int m1 = 1, m2 = 2;
        for (int n = 0; n < 256; n += 64) {
            for (int j = 0; j < 32; ++j) {
                int l1 = L[n + j];
                if (l1 > 15) {
                    l1 -= 16;
                    h[j] |= m1;
                }
                int l2 = L[n + j + 32];
                if (l2 > 15) {
                    l2 -= 16;
                    h[j] |= m2;
                }
                put(y, ql + j, l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
            ql += 32;
        }
        for (int j = 0; j < 32; j++) put(y, qh + j, h[j]);
    }

    /** {@code quantize_row_q6_K_ref} for one super-block of 256 floats at {@code x[o]} into 210 bytes at {@code b}. */
    static void q6_K(float[] x, int o, MemorySegment y, long b) {
        int[] L = new int[256];
        float[] scales = new float[16];
        float maxScale = 0;
        float maxAbsScale = 0;
        for (int ib = 0; ib < 16; ++ib) {
            float scale = makeQxQuants(16, 32, x, o + 16 * ib, L, 16 * ib);
            scales[ib] = scale;
            float absScale = Math.abs(scale);
            if (absScale > maxAbsScale) {
                maxAbsScale = absScale;
                maxScale = scale;
            }
        }
        if (maxAbsScale < GROUP_MAX_EPS) {
            for (int j = 0; j < 210; j++) put(y, b + j, 0);
            return;
        }
        float iscale = -128.f / maxScale;
        Quantize.putF16(y, b + 208, 1 / iscale);
        long sc = b + 192;
        for (int ib = 0; ib < 16; ++ib) put(y, sc + ib, Math.min(127, nearestInt(iscale * scales[ib])));
        float dAll = DequantizeScalar.f16(y, b + 208);
        for (int j = 0; j < 16; ++j) {
            float d = dAll * y.get(ValueLayout.JAVA_BYTE, sc + j);
            if (d == 0) continue;
            for (int ii = 0; ii < 16; ++ii) {
                int l = nearestInt(x[o + 16 * j + ii] / d);
                l = Math.max(-32, Math.min(31, l));
                L[16 * j + ii] = l + 32;
            }
        }
        long ql = b;
        long qh = b + 128;
        for (int j = 0; j < 256; j += 128) {
            for (int l = 0; l < 32; ++l) {
                int q1 = L[j + l] & 0xF;
                int q2 = L[j + l + 32] & 0xF;
                int q3 = L[j + l + 64] & 0xF;
                int q4 = L[j + l + 96] & 0xF;
                put(y, ql + l, q1 | (q3 << 4));
                put(y, ql + l + 32, q2 | (q4 << 4));
                put(y, qh + l, (L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
    }
}
