# translator-id.cmake - writes OUT: #define EMU_TRANSLATOR_ID "<sha256>", a
# hash of every source the translation depends on (LIST names them, one per
# line) plus EXTRA (compiler and build type).  Cached code is keyed by it, so
# emu-user, emu-aot and any other tool built from the same sources share
# cache entries, and any change to the translator misses.
file(STRINGS "${LIST}" sources)
set(all "${EXTRA}")
foreach(f IN LISTS sources)
  if(EXISTS "${f}")
    file(SHA256 "${f}" h)
    string(APPEND all "${f}:${h}\n")
  endif()
endforeach()
string(SHA256 id "${all}")
file(WRITE "${OUT}.tmp" "#define EMU_TRANSLATOR_ID \"${id}\"\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
