// weight_piece() of src/engine/device_tensors.hpp: where row `row`'s columns 16 kk .. 16 kk + 15
// start, in 16-column pieces from the buffer's start, for a matrix of k16 pieces a row.
// lanes 0: row-major; else lane-interleaved in blocks of lanes x rows_per_lane rows.
uint weight_piece(uint row, uint kk, uint k16, uint lanes, uint rows_per_lane) {
  if (lanes == 0u) return row * k16 + kk;
  uint block = lanes * rows_per_lane;
  return (row / block * k16 + kk) * block + row % rows_per_lane * lanes +
         row % block / rows_per_lane;
}
