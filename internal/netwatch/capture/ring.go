package capture

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The TPACKET_V3 layout (linux/if_packet.h), read with explicit offsets
// from the mapped bytes rather than through struct casts, so that every
// read is bounds-checked against the block.
const (
	// struct tpacket_block_desc: version, offset_to_priv, then
	// struct tpacket_hdr_v1.
	blkStatusOff   = 8  // block_status, written by both sides
	blkNumPktsOff  = 12 // num_pkts
	blkFirstPktOff = 16 // offset_to_first_pkt
	blkLenOff      = 20 // blk_len
	// struct tpacket3_hdr.
	pktNextOff    = 0  // tp_next_offset
	pktSecOff     = 4  // tp_sec
	pktNsecOff    = 8  // tp_nsec
	pktSnaplenOff = 12 // tp_snaplen
	pktLenOff     = 16 // tp_len
	pktStatusOff  = 20 // tp_status
	pktMacOff     = 24 // tp_mac
	// struct sockaddr_ll follows the header at TPACKET_ALIGN(48).
	sllOff        = unix.SizeofTpacket3Hdr
	sllIfindexOff = sllOff + 4
	sllPkttypeOff = sllOff + 10
	pktHeaderLen  = sllOff + unix.SizeofSockaddrLinklayer
	// blockHeaderRoom bounds what a block spends before a packet's data:
	// the block header (48) and the packet's headers (48 + 20, aligned
	// to 80, then 16 bytes the kernel leaves for a link header), with
	// room to spare.
	blockHeaderRoom = 48 + 128
	// ringFrameSize only has to divide the block size: TPACKET_V3 packs
	// packets of any size into a block, but the kernel still checks a
	// frame geometry.
	ringFrameSize = 2048
	// pollTimeout re-reads the block status after a poll that nothing
	// woke, in case a wakeup was missed.
	pollTimeout = time.Second
)

// ring is the mapped TPACKET_V3 receive ring.
type ring struct {
	mem       []byte
	blockSize int
	blocks    int
	cur       int // the next block to read
}

func mapRing(fd int, opts Options) (ring, error) {
	req := unix.TpacketReq3{
		Block_size:     uint32(opts.BlockSize),
		Block_nr:       uint32(opts.RingBlocks),
		Frame_size:     ringFrameSize,
		Frame_nr:       uint32(opts.BlockSize / ringFrameSize * opts.RingBlocks),
		Retire_blk_tov: uint32(opts.BlockTimeout / time.Millisecond),
	}
	if err := unix.SetsockoptTpacketReq3(fd, unix.SOL_PACKET, unix.PACKET_RX_RING, &req); err != nil {
		return ring{}, fmt.Errorf("setting up the capture ring (%d × %d bytes): %w", opts.RingBlocks, opts.BlockSize, err)
	}
	mem, err := unix.Mmap(fd, 0, opts.BlockSize*opts.RingBlocks, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return ring{}, fmt.Errorf("mapping the capture ring: %w", err)
	}
	return ring{mem: mem, blockSize: opts.BlockSize, blocks: opts.RingBlocks}, nil
}

func (r *ring) block(i int) []byte {
	return r.mem[i*r.blockSize : (i+1)*r.blockSize]
}

// blockStatus points at a block's status word, which the kernel sets to
// TP_STATUS_USER when it hands the block over and the reader sets back to
// TP_STATUS_KERNEL to return it. Atomic accesses give the ordering both
// sides rely on: the packets are written before the status says so, and
// read before it is given back.
func blockStatus(b []byte) *uint32 {
	return (*uint32)(unsafe.Pointer(&b[blkStatusOff]))
}

// Run reads packets until ctx is done or Close is called, and calls fn for
// each one, on Run's goroutine; fn must not keep p.Payload. It returns nil
// then, and an error only when reading fails. The capture is released when
// Run returns; it runs once.
func (c *Capture) Run(ctx context.Context, fn func(Packet)) error {
	c.mu.Lock()
	switch c.state {
	case stateRunning:
		c.mu.Unlock()
		return ErrRunning
	case stateClosed:
		c.mu.Unlock()
		return ErrClosed
	}
	c.state = stateRunning
	c.runDone = make(chan struct{})
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		_ = c.release()
		c.state = stateClosed
		close(c.runDone)
		c.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() {
		c.stop.Store(true)
		c.interrupt()
	})
	defer stop()

	fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN | unix.POLLERR}, {Fd: int32(c.wake), Events: unix.POLLIN}}
	var p Packet
	for !c.stop.Load() {
		b := c.ring.block(c.ring.cur)
		st := blockStatus(b)
		if atomic.LoadUint32(st)&unix.TP_STATUS_USER == 0 {
			_, err := unix.Poll(fds, int(pollTimeout/time.Millisecond))
			if err != nil && !errors.Is(err, unix.EINTR) {
				return fmt.Errorf("waiting for packets: %w", err)
			}
			continue
		}
		c.readBlock(b, &p, fn)
		atomic.StoreUint32(st, unix.TP_STATUS_KERNEL)
		c.ring.cur = (c.ring.cur + 1) % c.ring.blocks
	}
	return nil
}

// readBlock delivers a block's packets. A block whose layout does not hold
// together (it never should) ends at the first bad packet, counted.
func (c *Capture) readBlock(b []byte, p *Packet, fn func(Packet)) {
	ne := binary.NativeEndian
	n := int(ne.Uint32(b[blkNumPktsOff:]))
	off := int(ne.Uint32(b[blkFirstPktOff:]))
	end := min(int(ne.Uint32(b[blkLenOff:])), len(b))
	for i := 0; i < n; i++ {
		if off < 0 || off+pktHeaderLen > end {
			c.decodeErrs.Add(uint64(n - i))
			return
		}
		h := b[off:end]
		snap := int(ne.Uint32(h[pktSnaplenOff:]))
		mac := int(ne.Uint16(h[pktMacOff:]))
		if mac < pktHeaderLen || mac+snap > len(h) {
			c.decodeErrs.Add(uint64(n - i))
			return
		}
		if ne.Uint32(h[pktStatusOff:])&unix.TP_STATUS_LOSING != 0 && !c.warnedLoss {
			c.warnedLoss = true
			c.opts.Logger.Warn("packet capture ring overrun: packets dropped (counted in Stats.Dropped)",
				"netns", c.opts.Netns, "interface", c.opts.Interface)
		}
		*p = Packet{}
		if err := Decode(h[mac:mac+snap], p); err != nil {
			c.decodeErrs.Add(1)
		} else {
			p.Time = time.Unix(int64(ne.Uint32(h[pktSecOff:])), int64(ne.Uint32(h[pktNsecOff:])))
			p.Len = int(ne.Uint32(h[pktLenOff:]))
			p.IfIndex = int(int32(ne.Uint32(h[sllIfindexOff:])))
			p.Outgoing = h[sllPkttypeOff] == unix.PACKET_OUTGOING
			c.packets.Add(1)
			if p.Truncated() {
				c.truncated.Add(1)
			}
			fn(*p)
		}
		off += int(ne.Uint32(h[pktNextOff:]))
	}
}
