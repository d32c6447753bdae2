# Part D (gated generation): the access gate and the policy filters, on stores in temporary
# folders and a copy of the GPT-2 fixture (no GPU needed).
sg_add_test(test_release_gate SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_access.cpp
  ${CMAKE_CURRENT_LIST_DIR}/test_policy_filters.cpp ${CMAKE_CURRENT_LIST_DIR}/test_request_log.cpp
  LIBS stagegate_release SQLite::SQLite3 nlohmann_json::nlohmann_json)
target_include_directories(test_release_gate PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
