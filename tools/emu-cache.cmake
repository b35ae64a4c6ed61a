# emu-cache: inspect and maintain the code cache (cache/), and its shell
# tests.  Host disassembly in `show` comes from runtime/disas.c when the
# runtime is built (it dlopens LLVM only when asked).
emu_tool(emu-cache emu_cache)
if(TARGET emu-cache)
  target_link_libraries(emu-cache PRIVATE PkgConfig::LIBELF)
  if(TARGET emu_runtime)
    target_link_libraries(emu-cache PRIVATE emu_runtime)
    target_compile_definitions(emu-cache PRIVATE EMU_CACHE_HAVE_DISAS=1)
    if(TARGET emu_a64)   # verify --deep translates again
      target_link_libraries(emu-cache PRIVATE emu_a64)
      target_compile_definitions(emu-cache PRIVATE EMU_CACHE_HAVE_DEEP=1)
    endif()
  endif()
  add_test(NAME cache_tool
           COMMAND ${CMAKE_SOURCE_DIR}/tests/cache/tool.sh $<TARGET_FILE:emu-cache>
                   $<TARGET_FILE:cache-fill>)
  add_test(NAME cache_concurrent
           COMMAND ${CMAKE_SOURCE_DIR}/tests/cache/concurrent.sh $<TARGET_FILE:cache-fill>
                   $<TARGET_FILE:emu-cache>)
  set_tests_properties(cache_tool cache_concurrent PROPERTIES TIMEOUT 120)
  # The code cache of emu-user --tier=auto end to end (tests/cache/tier-cache.sh).
  if(TARGET emu-user)
    add_test(NAME tier_cache
             COMMAND ${CMAKE_SOURCE_DIR}/tests/cache/tier-cache.sh $<TARGET_FILE:emu-user>
                     $<TARGET_FILE:emu-cache>)
    set_tests_properties(tier_cache PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
  endif()
endif()
