# Generates version.cpp on every build so `stagegate --version` names the commit it was
# built from, without re-running CMake; the file is rewritten only when its text changes.
set(STAGEGATE_VERSION_CPP ${CMAKE_BINARY_DIR}/generated/version.cpp)
add_custom_target(stagegate_version_stamp
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${STAGEGATE_VERSION_CPP}
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${STAGEGATE_VERSION_CPP}
  COMMENT "Stamping version")
