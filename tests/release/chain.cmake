# The decision chain and its evidence (part B of issue 15): tampering with the store by raw
# SQL, as an attacker would, and two writers appending at once. A few seconds.
sg_add_test(test_release_chain
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_evidence.cpp ${CMAKE_CURRENT_LIST_DIR}/test_chain.cpp
  LIBS stagegate_release SQLite::SQLite3)
target_include_directories(test_release_chain PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
