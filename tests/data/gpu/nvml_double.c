/* Test double for the GPU behind NVML (CI has no GPU): a libnvidia-ml.so.1 that answers, through
 * the C interface of nvml.h, what the real NVML answered on the H100 machine while a PyTorch
 * process held 10 GiB (tests/data/gpu/h100-80gb_torch-10GiB.json).  Built by tests/test_gpu.py
 * with the system C compiler, so trtdiag/probes/nvml.py's ctypes structures and calls are checked
 * against the layouts a C compiler gives nvml.h's types.  The PID of the process is taken from
 * NVML_DOUBLE_PID.  NVML_DOUBLE_INIT_ERROR=N makes nvmlInitWithFlags return N.  Built with
 * -DNO_V3 it lacks the _v3 process call, as drivers before it did. */
#include <stdlib.h>
#include <string.h>

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct { unsigned long long total, free, used; } nvmlMemory_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId; } nvmlProcessInfo_t;
typedef struct { unsigned int pid; unsigned long long usedGpuMemory; } nvmlProcessInfo_v1_t;

static struct nvmlDevice_st { int index; } dev0 = {0};
static int initialised = 0;

static nvmlReturn_t copy(char *dst, unsigned int len, const char *src) {
    if (strlen(src) + 1 > len) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
    strcpy(dst, src);
    return 0;
}

nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
    const char *e = getenv("NVML_DOUBLE_INIT_ERROR");
    (void)flags;
    if (e) return atoi(e);
    initialised++;
    return 0;
}
nvmlReturn_t nvmlShutdown(void) { if (!initialised) return 1; initialised--; return 0; }
const char *nvmlErrorString(nvmlReturn_t r) {
    switch (r) {
    case 1: return "Uninitialized";
    case 9: return "Driver Not Loaded";
    case 18: return "RM has detected an NVML/RM version mismatch.";
    default: return "Unknown Error";
    }
}
nvmlReturn_t nvmlSystemGetDriverVersion(char *v, unsigned int len) { return initialised ? copy(v, len, "580.159.04") : 1; }
nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *v) { if (!initialised) return 1; *v = 13000; return 0; }
nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *n) { if (!initialised) return 1; *n = 1; return 0; }
nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) { if (i != 0) return 2; *d = &dev0; return 0; }
nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *n, unsigned int len) { return d == &dev0 ? copy(n, len, "NVIDIA H100 80GB HBM3") : 2; }
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *n, unsigned int len) { return d == &dev0 ? copy(n, len, "GPU-41002523-7dab-548e-540d-4445dd037985") : 2; }
nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t d, int *major, int *minor) { if (d != &dev0) return 2; *major = 9; *minor = 0; return 0; }
nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
    if (d != &dev0) return 2;
    m->total = 85520809984ULL; m->free = 73727672320ULL; m->used = 11793137664ULL;
    return 0;
}
static unsigned int pid_of_holder(void) { const char *p = getenv("NVML_DOUBLE_PID"); return p ? (unsigned int)atoi(p) : 1; }
static nvmlReturn_t procs(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) {
    if (d != &dev0) return 2;
    if (*count < 1 || infos == NULL) { *count = 1; return 7; }
    infos[0].pid = pid_of_holder(); infos[0].usedGpuMemory = 11280580608ULL;
    infos[0].gpuInstanceId = 0xFFFFFFFF; infos[0].computeInstanceId = 0xFFFFFFFF;
    *count = 1;
    return 0;
}
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) { return procs(d, count, infos); }
#ifndef NO_V3
nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *count, nvmlProcessInfo_t *infos) { return procs(d, count, infos); }
#endif
nvmlReturn_t nvmlSystemGetProcessName(unsigned int pid, char *name, unsigned int len) {
    if (pid != pid_of_holder()) return 6; /* NVML_ERROR_NOT_FOUND */
    return copy(name, len, "/opt/torch/.venv/bin/python3");
}
