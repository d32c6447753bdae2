// Activation functions of the MLP, selected by a push-constant code:
// 0 none, 1 GELU tanh approximation ("gelu_new"; GPT-1's "gelu"), 2 exact GELU (erf), 3 ReLU,
// 4 tanh (BERT's pooler and RoBERTa's classification head).

float gelu_tanh(float x) {
  const float k = 0.7978845608028654;  // sqrt(2/pi)
  float u = k * (x + 0.044715 * x * x * x);
  // tanh saturates long before |u| = 15; clamping keeps exp() in range on every driver.
  return 0.5 * x * (1.0 + tanh(clamp(u, -15.0, 15.0)));
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7); GLSL has no erf().
float erf_approx(float x) {
  float s = sign(x);
  float a = abs(x);
  float t = 1.0 / (1.0 + 0.3275911 * a);
  float y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t +
                   0.254829592) * t * exp(-a * a);
  return s * y;
}

float gelu_erf(float x) { return 0.5 * x * (1.0 + erf_approx(x * 0.7071067811865476)); }

float activate(float x, uint code) {
  if (code == 1u) return gelu_tanh(x);
  if (code == 2u) return gelu_erf(x);
  if (code == 3u) return max(x, 0.0);
  // Clamped for the same reason as in gelu_tanh: tanh(15) is 1 to float precision.
  if (code == 4u) return tanh(clamp(x, -15.0, 15.0));
  return x;
}
