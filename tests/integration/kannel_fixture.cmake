# A real Kannel (bearerbox, smsbox, the fake SMSC) as a ctest fixture:
# `kannel.start` runs before any test that requires it, `kannel.stop` after the
# last. Both call scripts/kannel, which documents the ports.
set(SUNBEAM_KANNEL_BASE_PORT 13000 CACHE STRING
  "first of the test Kannel's ports on 127.0.0.1 (admin; +1 smsbox link, +10 fake SMSC, +13 sendsms)")
math(EXPR SUNBEAM_KANNEL_SENDSMS_PORT "${SUNBEAM_KANNEL_BASE_PORT} + 13")
# The password is a test fixture's, not a secret: the sendsms user's, and what
# the test configs' kannel connectors read through ${SUNBEAM_KANNEL_PASSWORD}.
set(SUNBEAM_KANNEL_ENV
  "SUNBEAM_KANNEL_BASE_PORT=${SUNBEAM_KANNEL_BASE_PORT}"
  "SUNBEAM_KANNEL_RUN_DIR=${CMAKE_BINARY_DIR}/kannel-run"
  "SUNBEAM_KANNEL_PASSWORD=sunbeam-test")

add_test(NAME kannel.start COMMAND ${PROJECT_SOURCE_DIR}/scripts/kannel start --fresh)
set_tests_properties(kannel.start PROPERTIES FIXTURES_SETUP kannel LABELS integration TIMEOUT 120
  ENVIRONMENT "${SUNBEAM_KANNEL_ENV}")
add_test(NAME kannel.stop COMMAND ${PROJECT_SOURCE_DIR}/scripts/kannel stop)
set_tests_properties(kannel.stop PROPERTIES FIXTURES_CLEANUP kannel LABELS integration TIMEOUT 120
  ENVIRONMENT "${SUNBEAM_KANNEL_ENV}")

# sunbeam_kannel_test(NAME name COMMAND cmd...): a test that needs Kannel. It
# gets the fixture's environment plus SUNBEAM_TEST_KANNEL_SENDSMS (the sendsms
# URL) and SUNBEAM_TEST_KANNEL_RECEIVED (the fake SMSC's file of received
# messages). Add more with set_property(TEST ... APPEND PROPERTY ENVIRONMENT).
function(sunbeam_kannel_test)
  cmake_parse_arguments(ARG "" "NAME" "COMMAND" ${ARGN})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND})
  set_tests_properties(${ARG_NAME} PROPERTIES
    FIXTURES_REQUIRED kannel
    RESOURCE_LOCK kannel
    LABELS integration
    ENVIRONMENT "${SUNBEAM_KANNEL_ENV};SUNBEAM_TEST_KANNEL_SENDSMS=http://127.0.0.1:${SUNBEAM_KANNEL_SENDSMS_PORT}/cgi-bin/sendsms;SUNBEAM_TEST_KANNEL_RECEIVED=${CMAKE_BINARY_DIR}/kannel-run/received.log")
endfunction()
