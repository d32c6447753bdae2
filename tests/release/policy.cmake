# Part A of issue 15: the policy format (reader, malformed corpus, demo policies) and the
# metric catalog.
sg_add_test(test_release_policy SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/test_policy.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_policy_malformed.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_policy_fuzz.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_metric_catalog.cpp
  LIBS stagegate_release)
