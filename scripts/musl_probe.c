/* Loads a musllinux wheel's libtokenwell.so under musl's dynamic loader and calls
 * one export: every symbol resolved (RTLD_NOW) and the library's code running on
 * musl. scripts/dist.sh builds it with zig cc for x86-64 and aarch64 (run under
 * qemu) and runs it with Debian's musl loader: no musl Python is needed.
 * Usage: musl_probe /path/to/libtokenwell.so */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    uint32_t (*contract)(void) = (uint32_t (*)(void))dlsym(lib, "ffi_tokenwell_uniffi_contract_version");
    if (!contract) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 1; }
    uint32_t v = contract();
    if (v == 0) { fprintf(stderr, "contract version 0\n"); return 1; }
    printf("musl: libtokenwell.so loaded, uniffi contract version %u\n", v);
    return 0;
}
