# ctest emu:launch_report (benchmarks/CMakeLists.txt): runs
# `loom_bench --launch-report` on a small norm case and a small conv case and
# checks the report: every kernel named by its resolved instantiation (no
# "kernel at file:line" fallbacks), no case failing in dry run, and, when the
# build has an sm_90 resource table (EXPECT_REGISTERS), numeric registers and
# the one-wave flag on the layer-norm backward's 4-block column reduction.
#   cmake -DBENCH=<loom_bench> -DEXPECT_REGISTERS=ON|OFF -P check_launch_report.cmake
execute_process(
  COMMAND ${BENCH} --launch-report --filter layernorm/fp32/fwdbwd/N8192_D1024
          --filter conv2d/fp32/fwdbwd/N256_C3_K32_H64_W64_k3
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "loom_bench --launch-report exited with ${rc}")
endif()

function(expect regex what)
  if(NOT out MATCHES "${regex}")
    message(FATAL_ERROR "launch report: expected ${what} (/${regex}/)")
  endif()
endfunction()
function(expect_not regex what)
  if(out MATCHES "${regex}")
    message(FATAL_ERROR "launch report: unexpected ${what} (/${regex}/)")
  endif()
endfunction()

expect("== layernorm/fp32/fwdbwd/N8192_D1024 \\[loom\\]" "the fused layer-norm case")
expect("== conv2d/fp32/fwdbwd/N256_C3_K32_H64_W64_k3 \\[loom_hand\\]" "the conv case")
expect("layer_norm_backward_final_kernel<float>" "the resolved layer-norm reduction kernel")
expect("conv_few_channels_kernel<float>" "the resolved few-channel conv kernel")
expect_not(" at kernels/cuda/" "an unresolved kernel name")
expect_not("error in dry run" "a failing case")
expect("== flagged: [1-9]" "flagged launches")
# n, grid, block, smem (static + dynamic; "+?": static unknown), then
# registers, local bytes, blocks/SM, occupancy, waves, flag, kernel
set(row "[0-9]+  [0-9]+x1x1 +[0-9]+x1x1 +[0-9]+(\\+\\?)? +")
if(EXPECT_REGISTERS)
  expect("${row}[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +LOW +layer_norm_backward_final_kernel<float>"
         "registers, occupancy, waves and the LOW flag of layer_norm_backward_final_kernel")
  expect("${row}[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ + conv_few_channels_kernel<float>"
         "registers of the conv kernel")
else()
  expect("${row}- +- +- +- +- +LOW +layer_norm_backward_final_kernel<float>" "the LOW flag without a resource table")
endif()
