# sunbeam_library(NAME SOURCES ... DEPS ...)
#
# One module, one target: `sunbeam_<name>` with the alias `sunbeam::<name>`.
# The module's folder is its include root's parent, so code includes
# "<folder>/<header>.h" from the project root (e.g. "config/config.h").
function(sunbeam_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(sunbeam_${name} STATIC ${ARG_SOURCES})
  add_library(sunbeam::${name} ALIAS sunbeam_${name})
  target_include_directories(sunbeam_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(sunbeam_${name} PUBLIC ${ARG_DEPS})
endfunction()

# sunbeam_unit_test(NAME SOURCES ... DEPS ...): one doctest binary, one ctest entry.
function(sunbeam_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(test_${name} ${ARG_SOURCES})
  target_link_libraries(test_${name} PRIVATE sunbeam::test_main ${ARG_DEPS})
  add_test(NAME unit.${name} COMMAND test_${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS unit
    ENVIRONMENT "SUNBEAM_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
