# emu-aot: discover and translate a program's code before it runs (aot/),
# and its end-to-end tests (tests/aot/emu-aot.sh): a static guest program,
# bad ELF files, and a dynamic Debian program when the corpus is there.
emu_tool(emu-aot emu_aot emu_user emu_runtime emu_a64)
if(TARGET emu-aot AND TARGET aot_guest)
  add_test(NAME aot_static
           COMMAND ${CMAKE_SOURCE_DIR}/tests/aot/emu-aot.sh static $<TARGET_FILE:emu-aot>
                   ${CMAKE_BINARY_DIR}/tests/aot/aot-guest)
  add_test(NAME aot_dynamic
           COMMAND ${CMAKE_SOURCE_DIR}/tests/aot/emu-aot.sh dynamic $<TARGET_FILE:emu-aot>)
  set_tests_properties(aot_static aot_dynamic PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
