// wasmaot-oci: runs Wasm containers as AOT-compiled native executables and hands every other
// container, unchanged, to the delegate runtime (crun/runc). All logic is in CWasmAOTOCI.
#include "wasmaot_oci.h"

extern char **environ;

int main(int argc, char **argv) { return wao_main(argc, argv, environ); }
