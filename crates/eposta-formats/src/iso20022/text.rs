//! A buffered reader that counts the lines it hands out, so that every error of the
//! streaming XML reader can name its line without keeping the text it has read.

use std::io::{self, BufRead, Read};

/// The buffer: large enough that a read returns many lines, small enough not to matter.
const CAPACITY: usize = 64 * 1024;

/// A `BufRead` over any `Read` that can tell the line of any byte still in its buffer.
/// Newlines are found once per buffer fill (one `memchr` pass), not per event, and a line
/// is computed only when asked: for the start of statements, entries and transactions, and
/// for errors.
pub(crate) struct LineCounter<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    /// The offset in the input of `buf[0]`.
    buf_start: u64,
    /// Newlines in the input before `buf[0]`.
    newlines_before: u64,
    /// Offsets in `buf` of its newlines, ascending.
    newlines: Vec<u32>,
}

impl<R: Read> LineCounter<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineCounter {
            inner,
            buf: vec![0; CAPACITY].into_boxed_slice(),
            pos: 0,
            end: 0,
            buf_start: 0,
            newlines_before: 0,
            newlines: Vec::new(),
        }
    }

    /// The offset in the input of the next byte to be consumed.
    pub(crate) fn position(&self) -> u64 {
        self.buf_start + self.pos as u64
    }

    /// The line (from 1) of the next byte to be consumed.
    pub(crate) fn line(&self) -> u64 {
        self.line_at(self.position())
    }

    /// The line (from 1) of the byte at `offset`. Exact for bytes in the current buffer;
    /// for an earlier one (an event that began before the last refill) the line the
    /// buffer starts on, which differs only when that event itself spans lines.
    pub(crate) fn line_at(&self, offset: u64) -> u64 {
        let Some(rel) = offset.checked_sub(self.buf_start) else {
            return self.newlines_before + 1;
        };
        let rel = usize::try_from(rel).unwrap_or(usize::MAX).min(self.end);
        let before = self.newlines.partition_point(|&p| (p as usize) < rel);
        self.newlines_before + before as u64 + 1
    }
}

impl<R: Read> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos >= self.end {
            let n = loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            self.newlines_before += self.newlines.len() as u64;
            self.buf_start += self.end as u64;
            self.pos = 0;
            self.end = n;
            self.newlines.clear();
            // CAPACITY fits in a u32.
            self.newlines
                .extend(memchr::memchr_iter(b'\n', &self.buf[..n]).map(|p| p as u32));
        }
        Ok(&self.buf[self.pos..self.end])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_lines_of_what_was_consumed_only() {
        let mut r = LineCounter::new(&b"a\nb\n\nc"[..]);
        assert_eq!(r.line(), 1);
        let buf = r.fill_buf().expect("in memory");
        assert_eq!(buf.len(), 6);
        r.consume(2);
        assert_eq!(r.line(), 2);
        assert_eq!(r.line_at(1), 1);
        r.consume(3);
        assert_eq!(r.line(), 4);
        assert_eq!(r.position(), 5);
        let mut rest = String::new();
        r.read_to_string(&mut rest).expect("in memory");
        assert_eq!(rest, "c");
        assert_eq!(r.line(), 4);
    }

    /// A reader that hands out three bytes at a time, so that the buffer is refilled often.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(3);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn lines_stay_right_across_refills() {
        let text = b"ab\n\ncd\nef\n\n\ngh";
        let mut r = LineCounter::new(Trickle(text));
        for (i, _) in text.iter().enumerate() {
            let expected = text[..i].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            r.fill_buf().expect("in memory");
            assert_eq!(r.line(), expected, "at {i}");
            r.consume(1);
        }
    }
}
