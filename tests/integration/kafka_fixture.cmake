# The real Kafka broker as a ctest fixture: `kafka.start` runs before any test
# that requires it, `kafka.stop` after the last. Both call scripts/kafka.
set(SUNBEAM_KAFKA_PORT 19092 CACHE STRING "port of the test Kafka broker on 127.0.0.1")
set(SUNBEAM_KAFKA_ENV "SUNBEAM_KAFKA_PORT=${SUNBEAM_KAFKA_PORT}" "SUNBEAM_RUN_DIR=${CMAKE_BINARY_DIR}/kafka-run")

add_test(NAME kafka.start COMMAND ${PROJECT_SOURCE_DIR}/scripts/kafka start --fresh)
set_tests_properties(kafka.start PROPERTIES FIXTURES_SETUP kafka LABELS integration TIMEOUT 240
  ENVIRONMENT "${SUNBEAM_KAFKA_ENV}")
add_test(NAME kafka.stop COMMAND ${PROJECT_SOURCE_DIR}/scripts/kafka stop)
set_tests_properties(kafka.stop PROPERTIES FIXTURES_CLEANUP kafka LABELS integration TIMEOUT 120
  ENVIRONMENT "${SUNBEAM_KAFKA_ENV}")

# sunbeam_kafka_test(NAME name COMMAND cmd...): a test that needs the broker.
function(sunbeam_kafka_test)
  cmake_parse_arguments(ARG "" "NAME" "COMMAND" ${ARGN})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_COMMAND})
  set_tests_properties(${ARG_NAME} PROPERTIES
    FIXTURES_REQUIRED kafka
    RESOURCE_LOCK kafka
    LABELS integration
    ENVIRONMENT "SUNBEAM_TEST_BROKERS=127.0.0.1:${SUNBEAM_KAFKA_PORT}")
endfunction()
