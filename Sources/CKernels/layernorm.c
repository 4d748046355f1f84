// LayerNorm rows in C: the reductions run in 16 interleaved partial sums (a fixed order, so every row is
// computed the same way whichever thread or chunk it falls in, and the loops vectorise).
#include "ckernels.h"
#include "vector_math.h"  // VECTOR_CLONES and the 16 lanes of every fixed-order reduction
#include <math.h>

// Statistics in double: BERT's post-LN residual streams reach magnitudes where a float sum loses digits.
VECTOR_CLONES void iba_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *gamma,
                                         const float *beta, size_t rows, size_t channels, float eps) {
    for (size_t r = 0; r < rows; r++) {
        const float *x = inp + r * channels;
        double part[lanes] = {0};
        size_t c = 0;
        for (; c + lanes <= channels; c += lanes)
            for (int l = 0; l < lanes; l++) part[l] += (double)x[c + l];
        for (int l = 0; c < channels; c++, l++) part[l] += (double)x[c];
        double sum = 0;
        for (int l = 0; l < lanes; l++) sum += part[l];
        double m = sum / (double)channels;
        for (int l = 0; l < lanes; l++) part[l] = 0;
        c = 0;
        for (; c + lanes <= channels; c += lanes)
            for (int l = 0; l < lanes; l++) { double d = (double)x[c + l] - m; part[l] += d * d; }
        for (int l = 0; c < channels; c++, l++) { double d = (double)x[c] - m; part[l] += d * d; }
        double variance = 0;
        for (int l = 0; l < lanes; l++) variance += part[l];
        variance /= (double)channels;
        float mf = (float)m, sf = (float)(1.0 / sqrt(variance + (double)eps));
        float *y = out + r * channels;
        for (c = 0; c < channels; c++) y[c] = (x[c] - mf) * sf * gamma[c] + beta[c];
        if (mean) mean[r] = mf;
        if (rstd) rstd[r] = sf;
    }
}

VECTOR_CLONES void iba_layernorm_backward_input(float *dinp, const float *dout, const float *inp, const float *gamma,
                                                const float *mean, const float *rstd, size_t rows, size_t channels) {
    float inverse = 1.0f / (float)channels;
    for (size_t r = 0; r < rows; r++) {
        const float *x = inp + r * channels, *dy = dout + r * channels;
        float m = mean[r], s = rstd[r];
        float partDnorm[lanes] = {0}, partDnormXhat[lanes] = {0};
        size_t c = 0;
        for (; c + lanes <= channels; c += lanes)
            for (int l = 0; l < lanes; l++) {
                float dnorm = dy[c + l] * gamma[c + l];
                partDnorm[l] += dnorm;
                partDnormXhat[l] += dnorm * ((x[c + l] - m) * s);
            }
        for (int l = 0; c < channels; c++, l++) {
            float dnorm = dy[c] * gamma[c];
            partDnorm[l] += dnorm;
            partDnormXhat[l] += dnorm * ((x[c] - m) * s);
        }
        float sumDnorm = 0, sumDnormXhat = 0;
        for (int l = 0; l < lanes; l++) { sumDnorm += partDnorm[l]; sumDnormXhat += partDnormXhat[l]; }
        float meanDnorm = sumDnorm * inverse, meanDnormXhat = sumDnormXhat * inverse;
        float *dx = dinp + r * channels;
        for (c = 0; c < channels; c++) {
            float xhat = (x[c] - m) * s;
            dx[c] += (dy[c] * gamma[c] - meanDnorm - xhat * meanDnormXhat) * s;
        }
    }
}
