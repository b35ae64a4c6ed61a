# emu-img: the disk image tool (machine/block), and its interop test
# against qemu-img/qemu-io (exit 77 = skipped when qemu-img is absent).
emu_tool(emu-img emu_block)
if(TARGET emu-img)
  add_test(NAME block_interop
           COMMAND ${CMAKE_SOURCE_DIR}/tests/block/interop.sh $<TARGET_FILE:emu-img>)
  set_tests_properties(block_interop PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
