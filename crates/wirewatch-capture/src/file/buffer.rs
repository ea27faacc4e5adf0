//! The read buffer: a large `Vec<u8>` refilled from a `Read`, keeping the unconsumed tail.
//!
//! Owns knowing the file offset of every buffered byte, so that each record can be located
//! exactly in error messages. It must not interpret the bytes.

use std::io::{self, Read};

/// A refillable window onto a byte stream.
///
/// Invariant: `start <= end <= buf.len()`; `buf[start..end]` are the bytes from file offset
/// `base + start` that have not been consumed yet.
pub(super) struct ReadBuffer {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
}

impl ReadBuffer {
    pub(super) fn new(reader: Box<dyn Read + Send>, capacity: usize) -> Self {
        ReadBuffer {
            reader,
            buf: vec![0; capacity.max(64)],
            start: 0,
            end: 0,
            base: 0,
            eof: false,
        }
    }

    /// File offset of the first unconsumed byte.
    #[inline(always)]
    pub(super) fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// Buffered, unconsumed bytes.
    #[inline(always)]
    pub(super) fn available(&self) -> usize {
        self.end - self.start
    }

    /// Index in the buffer of the first unconsumed byte (valid until the next `fill`).
    #[inline(always)]
    pub(super) fn position(&self) -> usize {
        self.start
    }

    /// Current buffer size: the largest `fill` that needs no growth.
    pub(super) fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The buffered, unconsumed bytes.
    #[inline(always)]
    pub(super) fn window(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// `len` bytes at buffer index `start` (as recorded before a `consume`; empty if out of
    /// range, which the readers exclude).
    #[inline(always)]
    pub(super) fn slice(&self, start: usize, len: usize) -> &[u8] {
        self.buf.get(start..start + len).unwrap_or(&[])
    }

    /// Marks `n` buffered bytes as read. The bytes stay in place until the next `fill`.
    #[inline(always)]
    pub(super) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Makes at least `need` bytes available; `Ok(false)` if the stream ends first (whatever
    /// was there stays available). The buffer grows when `need` exceeds its size, so callers
    /// bound `need`.
    #[inline(always)]
    pub(super) fn fill(&mut self, need: usize) -> io::Result<bool> {
        if self.end - self.start >= need {
            return Ok(true);
        }
        self.refill(need)
    }

    #[inline(never)]
    fn refill(&mut self, need: usize) -> io::Result<bool> {
        if self.start + need > self.buf.len() {
            self.compact();
            if need > self.buf.len() {
                self.buf.resize(need, 0);
            }
        }
        while self.end - self.start < need {
            if self.eof || !self.read_more()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Moves the unconsumed tail to the front of the buffer.
    fn compact(&mut self) {
        if self.start == 0 {
            return;
        }
        self.buf.copy_within(self.start..self.end, 0);
        self.base += self.start as u64;
        self.end -= self.start;
        self.start = 0;
    }

    /// One `read` into the free space; `Ok(false)` at the end of the stream.
    fn read_more(&mut self) -> io::Result<bool> {
        loop {
            let free = self.buf.get_mut(self.end..).unwrap_or_default();
            let room = free.len();
            match self.reader.read(free) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    // A misbehaving reader claiming more than it was given must not break
                    // the buffer invariant.
                    self.end += n.min(room);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Consumes `n` bytes, reading and dropping whatever is not buffered yet, without growing
    /// the buffer; `Ok(false)` if the stream ends first.
    pub(super) fn discard(&mut self, n: u64) -> io::Result<bool> {
        let mut left = n;
        loop {
            let here = (self.available() as u64).min(left);
            // `here` fits in usize: it is at most `available()`.
            self.consume(here as usize);
            left -= here;
            if left == 0 {
                return Ok(true);
            }
            // Nothing buffered is left: restart at the front of the buffer.
            self.compact();
            if self.eof || !self.read_more()? {
                return Ok(false);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `chunk` bytes per call, like a pipe.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        chunk: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn trickle(len: usize, chunk: usize) -> ReadBuffer {
        let data = (0..len).map(|i| i as u8).collect();
        ReadBuffer::new(
            Box::new(Trickle {
                data,
                pos: 0,
                chunk,
            }),
            64,
        )
    }

    #[test]
    fn fill_compacts_and_tracks_offsets() {
        let mut b = trickle(1000, 7);
        assert!(b.fill(10).unwrap());
        // Short reads: two of 7 bytes; consuming more than is there stops at the end.
        assert_eq!(b.available(), 14);
        b.consume(60);
        assert_eq!(b.offset(), 14);
        assert!(b.fill(40).unwrap());
        assert_eq!(b.window()[0], (b.offset() % 256) as u8);
        // Larger than the buffer: grows.
        assert!(b.fill(200).unwrap());
        assert!(b.capacity() >= 200);
        assert_eq!(b.window()[199], ((b.offset() + 199) % 256) as u8);
    }

    #[test]
    fn discard_streams_past_the_buffer() {
        let mut b = trickle(1000, 13);
        assert!(b.fill(4).unwrap());
        assert!(b.discard(900).unwrap());
        assert_eq!(b.offset(), 900);
        assert_eq!(b.capacity(), 64);
        assert!(b.fill(100).unwrap());
        assert_eq!(b.window()[0], (900 % 256) as u8);
        assert!(!b.fill(101).unwrap());
        assert!(!b.discard(101).unwrap());
        assert_eq!(b.offset(), 1000);
    }
}
