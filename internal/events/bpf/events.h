/* SPDX-License-Identifier: (MIT OR GPL-2.0-only) */
/*
 * The few kernel types and constants events.bpf.c needs, written by hand so
 * that building needs neither vmlinux.h nor kernel headers, and loading
 * needs no kernel BTF: the program reads tracepoint records at offsets the
 * Go loader takes from tracefs, never kernel structs.
 */
#ifndef DAVY_EVENTS_H
#define DAVY_EVENTS_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

/* Map types from include/uapi/linux/bpf.h. */
enum {
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_RINGBUF = 27,
};

/* bpf_ringbuf_submit flags and bpf_ringbuf_query fields, same header. */
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};
enum {
	BPF_RB_AVAIL_DATA = 0,
};

#define AF_INET 2
#define AF_INET6 10

/* clone(2) flags from include/uapi/linux/sched.h. */
#define CLONE_PARENT 0x00008000
#define CLONE_THREAD 0x00010000

/* A __data_loc field holds the payload's offset (low 16 bits) from the
 * start of the record and its length (high 16 bits). */
#define DATA_LOC_OFFSET(loc) ((loc) & 0xffff)

#endif
