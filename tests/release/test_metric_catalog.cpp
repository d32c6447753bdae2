#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "release/metric_catalog.hpp"
#include "seam/registry.hpp"

namespace sg::release {
namespace {

TEST(MetricCatalog, EveryDetectorDeclaresItsMetrics) {
  const auto& specs = detectors::builtin_registry().specs();
  ASSERT_FALSE(specs.empty());
  for (const auto& spec : specs) {
    EXPECT_FALSE(spec.metrics.empty()) << spec.name;
    for (const auto& m : spec.metrics) EXPECT_TRUE(m.starts_with(spec.name + ".")) << m;
  }
}

// The aggregate names a real audit of the demo family wrote (plans/demo.ini and
// plans/toxicity-filter.ini on stages 1-4: `SELECT DISTINCT metric FROM aggregates`).
TEST(MetricCatalog, KnowsEveryMetricTheDemoAuditWrote) {
  std::ifstream in(std::string(STAGEGATE_FIXTURES) + "/release/demo-audit-metrics.txt");
  ASSERT_TRUE(in);
  int count = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    ++count;
    EXPECT_TRUE(is_known_metric(line)) << line;
  }
  EXPECT_GE(count, 40);  // the fixture is the whole list, not a few lines of it
}

TEST(MetricCatalog, PatternsMatchNumbersOnly) {
  EXPECT_TRUE(is_known_metric("memorization.extractable_rate@50"));
  EXPECT_TRUE(is_known_metric("memorization.extractable_rate@1234"));
  EXPECT_TRUE(is_known_metric("repetition.distinct_2"));
  EXPECT_FALSE(is_known_metric("memorization.extractable_rate@"));
  EXPECT_FALSE(is_known_metric("memorization.extractable_rate@k"));
  EXPECT_FALSE(is_known_metric("memorization.extractable_rate@5x"));
  EXPECT_FALSE(is_known_metric("memorization.extractable_rate@{k}"));
}

TEST(MetricCatalog, RefusesNamesNoDetectorWrites) {
  EXPECT_TRUE(is_known_metric("perplexity.heldout"));
  EXPECT_TRUE(is_known_metric("sample.tokens"));
  EXPECT_FALSE(is_known_metric("perplexity.heldot"));
  EXPECT_FALSE(is_known_metric("perplexity"));
  EXPECT_FALSE(is_known_metric(""));
  EXPECT_FALSE(is_known_metric("toxicity.expected_max "));
}

}  // namespace
}  // namespace sg::release
