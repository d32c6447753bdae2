#include "memorization/memorization_stats.hpp"

#include <algorithm>
#include <boost/math/distributions/skew_normal.hpp>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace sg::detectors::memorization {

std::string dup_bucket(std::uint64_t count) {
  if (count <= 1) return "1";
  if (count <= 4) return "2-4";
  if (count <= 16) return "5-16";
  if (count <= 64) return "17-64";
  return ">64";
}

double exposure_from_rank(double space, double rank) {
  return std::log2(space) - std::log2(std::clamp(rank, 1.0, space));
}

std::int64_t exact_rank(double secret, std::span<const double> candidates) {
  std::int64_t below = 0, equal = 0;
  for (double c : candidates) {
    below += c < secret;
    equal += c == secret;
  }
  // The secret itself is among the equal ones when the candidates include it.
  return below + std::max<std::int64_t>(equal, 1);
}

double estimated_rank(double secret, std::span<const double> sampled, double space) {
  if (sampled.size() < 3)
    throw std::invalid_argument("exposure by sampling needs at least 3 candidates");
  const double n = static_cast<double>(sampled.size());
  double mean = 0;
  for (double v : sampled) mean += v;
  mean /= n;
  double m2 = 0, m3 = 0;
  for (double v : sampled) {
    m2 += (v - mean) * (v - mean);
    m3 += (v - mean) * (v - mean) * (v - mean);
  }
  m2 /= n;
  m3 /= n;
  if (m2 <= 0) return secret < mean ? 1.0 : space;  // every candidate alike
  // Method of moments for the skew-normal: the sample skewness gives delta, clipped to the
  // largest skewness the family can reach (0.9952...).
  constexpr double kMaxSkew = 0.99;
  const double skew = std::clamp(m3 / std::pow(m2, 1.5), -kMaxSkew, kMaxSkew);
  const double c = std::cbrt(std::abs(skew));
  const double b = (4 - std::numbers::pi) / 2;
  const double mu_z = c / std::sqrt(std::cbrt(b * b) + c * c);  // = delta sqrt(2/pi)
  const double delta = std::copysign(mu_z / std::sqrt(2 / std::numbers::pi), skew);
  const double alpha = delta / std::sqrt(1 - delta * delta);
  const double omega = std::sqrt(m2 / (1 - 2 * delta * delta / std::numbers::pi));
  const double xi = mean - omega * delta * std::sqrt(2 / std::numbers::pi);
  const boost::math::skew_normal_distribution<double> fit(xi, omega, alpha);
  const double below = boost::math::cdf(fit, secret);
  return std::clamp(space * below, 1.0, space);
}

}  // namespace sg::detectors::memorization
