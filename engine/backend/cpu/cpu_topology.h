#pragma once
// How many threads the CPU backend runs when the caller leaves the count to the engine
// (ModelParams::n_threads = 0).
//
// Why not std::thread::hardware_concurrency(): it counts every logical CPU of the machine, also those the
// process may not run on (taskset, a container's cpuset) and both hyperthreads of each core. More pool
// threads than allowed CPUs leave the pool's spinning threads fighting the working ones for the same
// CPUs; a second hyperthread per core adds no memory bandwidth to a bandwidth-bound decode and shares its
// core's vector pipes with the first. llama.cpp also defaults to the physical cores.
#include <string>
#include <vector>

namespace bonsai::cpu {

// One thread per physical core among the CPUs this process may run on (sched_getaffinity), read from
// /sys/devices/system/cpu; where the topology cannot be read, one per allowed CPU; at least 1.
int default_thread_count();

// The counting step, on a given sysfs CPU directory (for tests): the number of distinct cores among
// `cpus`, a core being the set in cpu<N>/topology/core_cpus_list (Linux 5.7+) or, where that file is
// missing, thread_siblings_list (both "0-1,8" style lists). Returns cpus.size() when any CPU's list is
// missing, unreadable or malformed (each CPU then counts as a core), and at least 1.
int count_physical_cores(const std::string& cpu_dir, const std::vector<int>& cpus);

}  // namespace bonsai::cpu
