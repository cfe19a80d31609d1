# The one place that holds folio's warning set.
#   FOLIO_WERROR (default ON): turn warnings into errors.
# Targets opt in with folio_target_warnings(<target>); generated code gets the
# relaxed set through folio_target_generated_warnings(<target>).
option(FOLIO_WERROR "Treat compiler warnings as errors" ON)

set(FOLIO_C_WARNINGS
  -Wall -Wextra -Wpedantic
  -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wold-style-definition
  -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wvla
  -Wformat=2 -Wimplicit-fallthrough -Wnull-dereference
  -Wno-unused-parameter)

if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  # Names every function that forwards a format and a va_list to a printf-style
  # call but lacks format(printf, …), so its callers' arguments go unchecked.
  list(APPEND FOLIO_C_WARNINGS -Wmissing-format-attribute)
endif()

function(folio_target_warnings target)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C>:${FOLIO_C_WARNINGS}>)
  if(FOLIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# protobuf-c output is not ours to fix; keep -Werror but drop the pickiest checks.
function(folio_target_generated_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wno-unused-parameter)
  if(FOLIO_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
