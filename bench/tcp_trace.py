#!/usr/bin/env python3
"""Read a sender's behaviour from the captures bench_tcp_loss.sh takes with
XM_BENCH_LOSS_PCAP (tcptrace-like, for comparing xdpmux with the kernel on
the same impairment).

    tcp_trace.py SERVER-SIDE.pcap [CLIENT-SIDE.pcap] [--events]

SERVER-SIDE is the wire veth facing the server (every frame the server sent,
before the drops; the ACKs that got through), CLIENT-SIDE the one facing the
client (every ACK the client sent). Prints: data frames, retransmissions
(a frame starting below the highest sequence sent), idle gaps of the sender
longer than 50 ms with what preceded them (a timeout), the largest amount
in flight per 10 ms and, with --events, one line per retransmission.
"""
import struct
import sys

GAP_S = 0.05


def frames(path):
    """(time, tcp header fields) of each IPv4 TCP frame in a pcap file."""
    with open(path, 'rb') as f:
        hdr = f.read(24)
        magic = struct.unpack('<I', hdr[:4])[0]
        endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, incl, orig = struct.unpack(endian + 'IIII', rh)
            data = f.read(incl)
            t = sec + frac / (1e9 if nano else 1e6)
            if len(data) < 34 or data[12:14] != b'\x08\x00':
                continue
            ip = data[14:]
            ihl = (ip[0] & 15) * 4
            if ip[9] != 6:
                continue
            tot = struct.unpack('>H', ip[2:4])[0]
            src = '.'.join(map(str, ip[12:16]))
            tcp = ip[ihl:]
            sport, dport, seq, ack = struct.unpack('>HHII', tcp[:12])
            doff = (tcp[12] >> 4) * 4
            flags = tcp[13]
            wnd = struct.unpack('>H', tcp[14:16])[0]
            plen = tot - ihl - doff
            sacks = []
            opts = tcp[20:doff]
            i = 0
            while i < len(opts):
                kind = opts[i]
                if kind == 0:
                    break
                if kind == 1:
                    i += 1
                    continue
                if i + 1 >= len(opts):
                    break
                ln = opts[i + 1]
                if ln < 2:
                    break
                if kind == 5:
                    for j in range(i + 2, i + ln, 8):
                        sacks.append(struct.unpack('>II', opts[j:j + 8]))
                i += ln
            yield t, dict(src=src, sport=sport, dport=dport, seq=seq, ack=ack,
                          flags=flags, wnd=wnd, len=plen, sacks=sacks)


def rel(x, base):
    return (x - base) & 0xffffffff


def main(argv):
    events = '--events' in argv
    paths = [a for a in argv[1:] if not a.startswith('--')]
    fr = list(frames(paths[0]))
    data = [(t, p) for t, p in fr if p['len'] > 0]
    if not data:
        print('no data frames')
        return
    count = {}
    for _, p in data:
        k = (p['src'], p['sport'])
        count[k] = count.get(k, 0) + p['len']
    srv = max(count, key=count.get)   # the server sends the most
    data = [(t, p) for t, p in data if (p['src'], p['sport']) == srv]
    acks = [(t, p) for t, p in fr if (p['src'], p['sport']) != srv]
    if len(paths) > 1:
        acks_sent = [(t, p) for t, p in frames(paths[1])
                     if (p['src'], p['sport']) != srv]
    else:
        acks_sent = []
    base = data[0][1]['seq']
    t0 = data[0][0]
    high = 0
    rtx = 0
    gaps = []
    last_t = None
    maxin = {}
    ai = 0
    una = 0
    rtx_ev = []
    for t, p in data:
        s = rel(p['seq'], base)
        e = s + p['len']
        while ai < len(acks) and acks[ai][0] <= t:
            una = max(una, rel(acks[ai][1]['ack'], base)) if acks[ai][1]['flags'] & 0x10 else una
            ai += 1
        if s < high:
            rtx += 1
            rtx_ev.append((t - t0, s, una, high))
        if last_t is not None and t - last_t > GAP_S:
            gaps.append((last_t - t0, t - last_t, s, una, high))
        last_t = t
        high = max(high, e)
        b = int((t - t0) / 0.01)
        maxin[b] = max(maxin.get(b, 0), high - una)
    dur = data[-1][0] - t0
    print(f'sender {srv[0]}:{srv[1]}: {len(data)} data frames, {rtx} retransmitted, '
          f'{high} bytes, {dur:.3f} s')
    print(f'ACKs: {len(acks)} reached the sender' +
          (f', of {len(acks_sent)} sent' if acks_sent else ''))
    print(f'sender idle > {GAP_S * 1000:.0f} ms: {len(gaps)} times, '
          f'{sum(g[1] for g in gaps):.3f} s in all')
    for g in gaps:
        print(f'  at {g[0]:.4f} s idle {g[1] * 1000:.1f} ms, then seq {g[2]} '
              f'(una {g[3]}, highest sent {g[4]}, {(g[4] - g[3]) // 1448} segs out)')
    if maxin:
        vals = sorted(maxin.values())
        print(f'bytes in flight, max per 10 ms: median {vals[len(vals) // 2]}, '
              f'90th {vals[len(vals) * 9 // 10]}')
    if events:
        for e in rtx_ev:
            print(f'  rtx at {e[0]:.4f} seq {e[1]} una {e[2]} high {e[3]}')


if __name__ == '__main__':
    main(sys.argv)
