// Which SIMD paths this CPU can run; checked once, at first use.
#pragma once

namespace quantstudio::kernels {

/** AVX2 + FMA + F16C (the fast fp32/fp16/bf16 paths). */
bool HasAvx2Fma();

/** Forces the scalar paths (benchmarks and tests compare the two). */
void SetForceScalar(bool force);

/** HasAvx2Fma() unless scalar is forced. */
bool UseAvx2();

}  // namespace quantstudio::kernels
