# cmake -DPROGRAM=... -DARGS=a,b -DOUTPUT=file -P run_to_file.cmake
# Runs PROGRAM with the comma-separated ARGS and writes its stdout to OUTPUT;
# fails the build if it fails.
string(REPLACE "," ";" ARGS "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${ARGS} OUTPUT_FILE ${OUTPUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUTPUT}.tmp)
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed: ${rc}")
endif()
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
