// SPDX-License-Identifier: (MIT OR GPL-2.0-only)
//
// Process and connection events for davy agent: exec, new processes, process
// exits and connect(2) attempts, sent to user space through one ring buffer.
//
// Plain tracepoint programs, no CO-RE: every field read from a tracepoint
// record is read at an offset the Go loader takes from the tracepoint's
// tracefs "format" file and sets in the read-only constants below, so the
// same object works across kernels whose record layouts differ (the fork
// and exit records changed in 6.x). Reads go through bpf_probe_read_kernel
// because the verifier only allows constant-offset loads from the context.
#include "events.h"
#include <bpf/bpf_helpers.h>

// Dual licensed so the GPL-only helpers (bpf_probe_read_*) are allowed.
char LICENSE[] SEC("license") = "Dual MIT/GPL";

// Event kinds; the values match events.Kind.
#define KIND_EXEC 1
#define KIND_FORK 2
#define KIND_EXIT 3
#define KIND_CONNECT 4

#define FILENAME_LEN 512

// Record layouts; ebpf_record.go decodes them at these offsets.
struct event_hdr {
	__u64 ts;       // bpf_ktime_get_ns: CLOCK_MONOTONIC
	__u32 pid;      // thread ID
	__u32 tgid;     // process ID
	__u32 ppid;     // fork: the parent's process ID, 0 when unknown
	__u8 kind;
	__u8 family;    // connect: AF_INET or AF_INET6
	__u8 port[2];   // connect: network byte order
	char comm[16];
};                      // 40 bytes

struct exec_event {
	struct event_hdr h;
	char filename[FILENAME_LEN];
};

struct connect_event {
	struct event_hdr h;
	__s32 fd;
	__u8 addr[16];  // IPv4 in the first 4 bytes
	__u8 pad[4];
};                      // 64 bytes

// Offsets of tracepoint fields, set by the loader (0: field absent).
volatile const __u32 exec_filename_off = 0;   // sched_process_exec.filename (__data_loc)
volatile const __u32 exit_group_dead_off = 0; // sched_process_exit.group_dead (6.x and later)
volatile const __u32 newtask_pid_off = 0;     // task_newtask.pid
volatile const __u32 newtask_flags_off = 0;   // task_newtask.clone_flags
volatile const __u32 connect_fd_off = 0;      // sys_enter_connect.fd
volatile const __u32 connect_addr_off = 0;    // sys_enter_connect.uservaddr
volatile const __u32 connect_len_off = 0;     // sys_enter_connect.addrlen

// Wake the reader only once this many bytes wait in the ring (0: on every
// record). The reader then polls on a short timer, so a burst of events
// costs one wakeup rather than one each.
volatile const __u32 wakeup_bytes = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); // the loader may change it
} events SEC(".maps");

// Events that could not be sent (ring full) or read (a connect address
// that was not resident), per CPU so counting needs no atomics.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(void)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &key);
	if (n)
		*n += 1;
}

static __always_inline void fill_hdr(struct event_hdr *h, __u8 kind)
{
	__u64 id = bpf_get_current_pid_tgid();
	h->ts = bpf_ktime_get_ns();
	h->pid = (__u32)id;
	h->tgid = id >> 32;
	h->ppid = 0;
	h->kind = kind;
	h->family = 0;
	h->port[0] = 0;
	h->port[1] = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
}

// read_field copies size bytes at off from the tracepoint record.
static __always_inline long read_field(void *dst, __u32 size, void *ctx, __u32 off)
{
	return bpf_probe_read_kernel(dst, size, (char *)ctx + off);
}

// Runs in the new program's context after a successful execve: the current
// task is the exec'ing process, now its thread-group leader.
// submit_flags says whether this record wakes the reader (see wakeup_bytes).
static __always_inline __u64 submit_flags(void)
{
	if (!wakeup_bytes)
		return 0;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

SEC("tracepoint/sched/sched_process_exec")
int davy_exec(void *ctx)
{
	struct exec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->h, KIND_EXEC);
	e->filename[0] = 0;
	__u32 loc = 0;
	if (exec_filename_off && read_field(&loc, sizeof(loc), ctx, exec_filename_off) == 0) {
		if (bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
					      (char *)ctx + DATA_LOC_OFFSET(loc)) < 0)
			e->filename[0] = 0;
	}
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

// Runs in the exiting task for every thread; only the end of a whole
// process is reported: the last thread when the kernel says so
// (group_dead), else the thread-group leader.
SEC("tracepoint/sched/sched_process_exit")
int davy_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (exit_group_dead_off) {
		__u8 dead = 0;
		if (read_field(&dead, sizeof(dead), ctx, exit_group_dead_off) != 0 || !dead)
			return 0;
	} else if ((__u32)id != (__u32)(id >> 32)) {
		return 0;
	}
	struct event_hdr *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(e, KIND_EXIT);
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

// task_newtask rather than sched_process_fork: it carries the clone flags,
// so new threads (CLONE_THREAD, by far the most frequent clones) are
// dropped here instead of costing a ring record each. It runs in the
// parent after the child is fully set up.
SEC("tracepoint/task/task_newtask")
int davy_fork(void *ctx)
{
	__u64 flags = 0;
	__s32 child = 0;
	if (read_field(&flags, sizeof(flags), ctx, newtask_flags_off) != 0 ||
	    read_field(&child, sizeof(child), ctx, newtask_pid_off) != 0)
		return 0;
	if (flags & CLONE_THREAD)
		return 0;
	struct event_hdr *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(e, KIND_FORK);
	// The caller becomes the parent unless CLONE_PARENT gives the child
	// the caller's own parent, which is not known here.
	e->ppid = (flags & CLONE_PARENT) ? 0 : e->tgid;
	e->pid = child;
	e->tgid = child;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

// connect(2) attempts to IPv4 and IPv6 destinations, before the kernel
// checks them: the address the process asked for, whatever the outcome.
SEC("tracepoint/syscalls/sys_enter_connect")
int davy_connect(void *ctx)
{
	__u64 fd = 0, uaddr = 0, alen = 0;
	if (read_field(&fd, sizeof(fd), ctx, connect_fd_off) != 0 ||
	    read_field(&uaddr, sizeof(uaddr), ctx, connect_addr_off) != 0 ||
	    read_field(&alen, sizeof(alen), ctx, connect_len_off) != 0 || !uaddr)
		return 0;
	__u16 family = 0;
	if (alen < sizeof(family) || bpf_probe_read_user(&family, sizeof(family), (void *)uaddr) != 0)
		return 0;
	// The kernel refuses shorter addresses: sockaddr_in is 16 bytes,
	// sockaddr_in6 at least 24 (RFC 2133).
	if (!((family == AF_INET && alen >= 16) || (family == AF_INET6 && alen >= 24)))
		return 0;
	struct connect_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill_hdr(&e->h, KIND_CONNECT);
	e->h.family = family;
	e->fd = (__s32)fd;
	__builtin_memset(e->addr, 0, sizeof(e->addr));
	__builtin_memset(e->pad, 0, sizeof(e->pad));
	long err = bpf_probe_read_user(e->h.port, sizeof(e->h.port), (char *)uaddr + 2);
	if (!err) {
		if (family == AF_INET) // sin_addr at 4
			err = bpf_probe_read_user(e->addr, 4, (char *)uaddr + 4);
		else // sin6_addr at 8
			err = bpf_probe_read_user(e->addr, 16, (char *)uaddr + 8);
	}
	if (err) {
		bpf_ringbuf_discard(e, 0);
		count_lost();
		return 0;
	}
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}
