// The JS form of quant::GroupQuantized (native/src/quant/group_quant.h), shared by RTN, GPTQ and AWQ:
// W[r][c] ≈ (q[r·cols + c] − zeros[g·rows + r]) · scales[g·rows + r] with g = gIdx[c].
export interface GroupQuantized {
  rows: number;
  cols: number;
  bits: number;
  groupSize: number;
  q: Uint8Array;
  scales: Float32Array;
  zeros: Int32Array;
  gIdx: Int32Array;
}

/** Progress and cancellation of a long quantizer call. */
export interface QuantRunControl {
  /** Called after each unit of work (a GPTQ lazy block, an AWQ grid point). */
  onProgress?: (done: number, total: number) => void;
  /** Aborting rejects the promise with "cancelled" at the next unit boundary. */
  signal?: AbortSignal;
}

/** The Int32Array flag the native side polls; set when the signal aborts. */
export function cancelFlag(signal: AbortSignal | undefined): Int32Array {
  const flag = new Int32Array(1);
  if (signal) {
    if (signal.aborted) flag[0] = 1;
    else
      signal.addEventListener(
        'abort',
        () => {
          flag[0] = 1;
        },
        { once: true },
      );
  }
  return flag;
}

/** The dequantized matrix [rows × cols] (tests, error measurements). */
export function dequantize(g: GroupQuantized): Float32Array {
  const out = new Float32Array(g.rows * g.cols);
  for (let r = 0; r < g.rows; r++) {
    for (let c = 0; c < g.cols; c++) {
      const k = g.gIdx[c] * g.rows + r;
      out[r * g.cols + c] = (g.q[r * g.cols + c] - g.zeros[k]) * g.scales[k];
    }
  }
  return out;
}
