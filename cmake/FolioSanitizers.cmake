# Sanitizers as options, applied to every target in the tree.
#   -DFOLIO_SANITIZE=address,undefined   ASan + UBSan (the configuration CI keeps green)
#   -DFOLIO_SANITIZE=thread              TSan
set(FOLIO_SANITIZE "" CACHE STRING "Comma-separated -fsanitize= list (address,undefined | thread)")
if(FOLIO_SANITIZE)
  add_compile_options(-fsanitize=${FOLIO_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${FOLIO_SANITIZE})
endif()
