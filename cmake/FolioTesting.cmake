# folio_add_test(<name> SOURCES <src>... [LIBS <lib>...] [LABELS <label>...]
#                [TIMEOUT <s>] [ARGS <arg>...])
# One executable per test, run in its own process by ctest with a timeout.
# Label "asan" puts a test into the ASan+UBSan pass of scripts/test.sh (use it
# for every test that needs no external service); "unit", "integration",
# "interop", "fuzz" say what kind it is. Label "allocfail" puts a
# single-threaded unit test into the allocation-failure run (tests/alloc/):
# with -DFOLIO_ALLOC_FAIL=ON it is linked with the failure injector.
option(FOLIO_ALLOC_FAIL "Link tests labelled allocfail with tests/alloc's failure injector" OFF)
function(folio_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE folio_test_harness ${T_LIBS})
  if(FOLIO_ALLOC_FAIL AND "allocfail" IN_LIST T_LABELS)
    target_link_libraries(${name} PRIVATE folio_alloc_fail)
  endif()
  folio_target_warnings(${name})
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()

# folio_add_stack_test(<name> <services> SOURCES <src>... [LIBS <lib>...] [TIMEOUT <s>])
# An integration test run under scripts/stack.sh, which starts throwaway
# services (<services>: pg, redis, s3, comma-separated) in a temp dir on
# loopback, exports FOLIO_DATABASE_URL / FOLIO_REDIS_URL / FOLIO_S3_*, and stops
# them afterwards (also on failure or timeout, through its watchdog).
function(folio_add_stack_test name services)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  find_package(Threads REQUIRED)
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE folio_test_harness Threads::Threads ${T_LIBS})
  folio_target_warnings(${name})
  add_test(NAME ${name} COMMAND ${PROJECT_SOURCE_DIR}/scripts/stack.sh run ${services}
           -- $<TARGET_FILE:${name}>)
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 90)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "integration"
                       ENVIRONMENT "FOLIO_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# Adds every immediate subfolder of the current source dir that has a
# CMakeLists.txt, so sibling modules never edit a shared list.
# Folders named in the arguments are skipped (already added).
function(folio_add_subdirectories)
  set(skip ${ARGN})
  file(GLOB children LIST_DIRECTORIES true RELATIVE ${CMAKE_CURRENT_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR}/*)
  list(SORT children)
  foreach(d ${children})
    if(NOT d IN_LIST skip AND IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/${d} AND EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${d}/CMakeLists.txt)
      add_subdirectory(${d})
    endif()
  endforeach()
endfunction()
