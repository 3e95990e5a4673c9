// This machine's own limits, measured, so benchmarks report ratios instead of absolute figures.
#pragma once

namespace quantstudio::kernels {

/** fp32 GFLOP/s of a tight FMA loop on every pool thread, at the active SIMD level. */
double MeasurePeakGflops(double seconds);

/** GB/s moved (read + write) by memcpy of a buffer far larger than the caches, on every pool thread. */
double MeasureMemcpyGBs(double seconds);

}  // namespace quantstudio::kernels
