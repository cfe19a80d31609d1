# cmake -DGOT=<generated file> -DWANT=<golden file> -P golden_compare.cmake
# Fails with a unified diff when protoc-gen-cgrpc's output changed. After an
# intended change, copy GOT over WANT and review the diff in the commit.
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${GOT} ${WANT} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  execute_process(COMMAND diff -u ${WANT} ${GOT})
  message(FATAL_ERROR "protoc-gen-cgrpc output differs from the golden file:\n  ${GOT}\n  ${WANT}\n"
                      "If the change is intended: cp ${GOT} ${WANT}")
endif()
