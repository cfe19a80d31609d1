# cgrpc_generate(<target> PROTOS <file.proto>... IMPORT_DIRS <dir>...)
#
# Generates, at build time, protobuf-c messages (<name>.pb-c.c/h, by protoc's
# protoc-gen-c) and cgrpc stubs (<name>.cgrpc.c/h, by protoc-gen-cgrpc built in
# cgrpc/) for each proto, and compiles them into the static library <target>.
# PROTOS are paths relative to one of IMPORT_DIRS (as they are imported).
# Well-known types a proto imports (import "google/protobuf/<x>.proto") are
# generated from the system's copies into one library per type,
# cgrpc_wkt_<x>, shared by every target (protobuf-c ships no compiled code
# for them). Link <target> to get the
# include path (the generated root) and the cgrpc runtime.
# Generated code lives only in the build tree; never commit it.
find_program(CGRPC_PROTOC protoc REQUIRED)
find_program(CGRPC_PROTOC_GEN_C protoc-gen-c REQUIRED)
find_path(CGRPC_PROTOBUF_INCLUDE google/protobuf/timestamp.proto
  PATHS /usr/include /usr/local/include REQUIRED)

function(cgrpc_generate target)
  cmake_parse_arguments(G "" "" "PROTOS;IMPORT_DIRS" ${ARGN})
  if(NOT G_PROTOS)
    message(FATAL_ERROR "cgrpc_generate(${target}): no PROTOS")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}_gen)
  set(import_flags)
  foreach(d ${G_IMPORT_DIRS})
    list(APPEND import_flags -I${d})
  endforeach()
  list(APPEND import_flags -I${CGRPC_PROTOBUF_INCLUDE})
  set(plugins
    --plugin=protoc-gen-c=${CGRPC_PROTOC_GEN_C}
    --plugin=protoc-gen-cgrpc=$<TARGET_FILE:protoc-gen-cgrpc>)
  set(srcs)
  set(wkts)
  foreach(p ${G_PROTOS})
    set(dir "")
    foreach(d ${G_IMPORT_DIRS})
      if(EXISTS ${d}/${p})
        set(dir ${d})
        break()
      endif()
    endforeach()
    if(NOT dir)
      message(FATAL_ERROR "cgrpc_generate(${target}): ${p} is in none of IMPORT_DIRS (${G_IMPORT_DIRS})")
    endif()
    string(REGEX REPLACE "\\.proto$" "" base ${p})
    file(STRINGS ${dir}/${p} imports REGEX "^import +\"google/protobuf/[a-z_]+\\.proto\"")
    foreach(line ${imports})
      string(REGEX MATCH "google/protobuf/[a-z_]+\\.proto" w "${line}")
      list(APPEND wkts ${w})
    endforeach()
    set(outs ${out}/${base}.pb-c.c ${out}/${base}.pb-c.h ${out}/${base}.cgrpc.c ${out}/${base}.cgrpc.h)
    add_custom_command(OUTPUT ${outs}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out}
      COMMAND ${CGRPC_PROTOC} ${plugins} --c_out=${out} --cgrpc_out=${out} ${import_flags} ${p}
      WORKING_DIRECTORY ${dir}
      DEPENDS ${dir}/${p} protoc-gen-cgrpc
      COMMENT "cgrpc: generating messages and stubs for ${p}"
      VERBATIM)
    list(APPEND srcs ${outs})
  endforeach()
  if(wkts)
    list(REMOVE_DUPLICATES wkts)
  endif()
  # One library per well-known type for the whole build (cgrpc_wkt_<name>),
  # so two generated libraries that both import it never carry two copies.
  set(wkt_targets)
  foreach(w ${wkts})
    string(REGEX REPLACE "^google/protobuf/([a-z_]+)\\.proto$" "\\1" wname ${w})
    set(wt cgrpc_wkt_${wname})
    if(NOT TARGET ${wt})
      set(wout ${CMAKE_BINARY_DIR}/cgrpc_wkt_gen)
      set(outs ${wout}/google/protobuf/${wname}.pb-c.c ${wout}/google/protobuf/${wname}.pb-c.h)
      add_custom_command(OUTPUT ${outs}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${wout}
        COMMAND ${CGRPC_PROTOC} --plugin=protoc-gen-c=${CGRPC_PROTOC_GEN_C} --c_out=${wout}
                -I${CGRPC_PROTOBUF_INCLUDE} ${w}
        WORKING_DIRECTORY ${CGRPC_PROTOBUF_INCLUDE}
        DEPENDS ${CGRPC_PROTOBUF_INCLUDE}/${w}
        COMMENT "cgrpc: generating protobuf-c messages for the well-known type ${w}"
        VERBATIM)
      add_library(${wt} STATIC ${outs})
      target_include_directories(${wt} SYSTEM PUBLIC ${wout})
      target_link_libraries(${wt} PUBLIC PkgConfig::PROTOBUF_C)
      if(COMMAND folio_target_generated_warnings)
        folio_target_generated_warnings(${wt})
      endif()
    endif()
    list(APPEND wkt_targets ${wt})
  endforeach()
  add_library(${target} STATIC ${srcs})
  # SYSTEM: protobuf-c's headers are not written to our warning set.
  target_include_directories(${target} SYSTEM PUBLIC ${out})
  target_link_libraries(${target} PUBLIC cgrpc ${wkt_targets})
  if(COMMAND folio_target_generated_warnings)
    folio_target_generated_warnings(${target})
  endif()
endfunction()
