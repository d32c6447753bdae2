# Part C of issue 15: decide and revoke against stores built in temp dirs (no engine runs).
sg_add_test(test_decide
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_decide.cpp
          ${CMAKE_CURRENT_LIST_DIR}/../model/checkpoint_builder.cpp
  LIBS stagegate_release nlohmann_json::nlohmann_json)
target_include_directories(test_decide PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
