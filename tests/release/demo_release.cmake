# The demo family's release decided on its measured audit figures (a fixture): the policies
# and plans as shipped, the stages' corpus indexes built here (a few seconds).
sg_add_test(test_demo_release SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_demo_release.cpp
  LIBS stagegate_release stagegate_memorization nlohmann_json::nlohmann_json)
target_include_directories(test_demo_release PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
