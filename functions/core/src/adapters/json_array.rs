//! A JSON array read element by element, as its bytes arrive: a run's index is too big
//! to hold whole (a million principals are gigabytes of JSON). Only the element being
//! read is held.

/// Splits the bytes of one JSON array (`[e, e, …]`, any whitespace) into its elements'
/// bytes. It tracks strings and nesting only; each element is then parsed by serde_json,
/// which judges it.
#[derive(Debug, Default)]
pub struct ArraySplitter {
    /// Seen the array's `[`.
    opened: bool,
    /// Seen its `]`.
    closed: bool,
    /// Nesting inside the current element.
    depth: u32,
    in_string: bool,
    escaped: bool,
    element: Vec<u8>,
}

/// The bytes are not one JSON array.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a JSON array: {0}")]
pub struct NotAnArray(pub &'static str);

/// Why [`ArraySplitter::feed`] stopped.
#[derive(Debug)]
pub enum Stop<E> {
    Shape(NotAnArray),
    /// The element's handler failed.
    Each(E),
}

impl<E> From<NotAnArray> for Stop<E> {
    fn from(e: NotAnArray) -> Self {
        Stop::Shape(e)
    }
}

impl ArraySplitter {
    /// Feeds the next bytes; `each` gets every element they complete.
    pub fn feed<E>(
        &mut self,
        bytes: &[u8],
        each: &mut impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), Stop<E>> {
        for &b in bytes {
            if self.closed {
                if !b.is_ascii_whitespace() {
                    return Err(NotAnArray("bytes after its closing bracket").into());
                }
                continue;
            }
            if !self.opened {
                match b {
                    b'[' => self.opened = true,
                    b if b.is_ascii_whitespace() => {}
                    _ => return Err(NotAnArray("it does not start with '['").into()),
                }
                continue;
            }
            if self.in_string {
                self.element.push(b);
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b',' | b']' if self.depth == 0 => {
                    if !self.element.is_empty() {
                        each(&self.element).map_err(Stop::Each)?;
                        self.element.clear();
                    } else if b == b',' {
                        return Err(NotAnArray("an empty element").into());
                    }
                    self.closed = b == b']';
                }
                b if b.is_ascii_whitespace() && self.depth == 0 => {}
                _ => {
                    match b {
                        b'"' => self.in_string = true,
                        b'{' | b'[' => self.depth += 1,
                        b'}' | b']' => {
                            self.depth = self
                                .depth
                                .checked_sub(1)
                                .ok_or(NotAnArray("unbalanced brackets"))?
                        }
                        _ => {}
                    }
                    self.element.push(b);
                }
            }
        }
        Ok(())
    }

    /// The bytes ended: the array must be closed.
    pub fn end(&self) -> Result<(), NotAnArray> {
        if self.closed {
            Ok(())
        } else {
            Err(NotAnArray("it ends before its closing bracket"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&str]) -> Result<Vec<String>, NotAnArray> {
        let mut s = ArraySplitter::default();
        let mut out = Vec::new();
        for c in chunks {
            s.feed(c.as_bytes(), &mut |e: &[u8]| {
                out.push(String::from_utf8(e.to_vec()).unwrap());
                Ok::<(), ()>(())
            })
            .map_err(|e| match e {
                Stop::Shape(s) => s,
                Stop::Each(()) => unreachable!(),
            })?;
        }
        s.end()?;
        Ok(out)
    }

    #[test]
    fn elements_come_whole_whatever_the_chunks() {
        let doc = r#" [ {"a": "x,]\"}", "b": [1, {"c": 2}]}, 3 ,"s\\",[]] "#;
        let want = vec![
            r#"{"a": "x,]\"}", "b": [1, {"c": 2}]}"#.to_string(),
            "3".to_string(),
            r#""s\\""#.to_string(),
            "[]".to_string(),
        ];
        assert_eq!(split(&[doc]).unwrap(), want);
        // One byte at a time: every split point inside strings, escapes and nesting.
        let bytes: Vec<String> = doc.chars().map(|c| c.to_string()).collect();
        let refs: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(split(&refs).unwrap(), want);
        assert_eq!(split(&["[]"]).unwrap(), Vec::<String>::new());
        assert_eq!(split(&["[\n", "]\n"]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn what_is_not_one_array_is_refused() {
        for bad in [r#"{"a": 1}"#, "[1, 2", "[1,,2]", "[1] [2]", "[1]]", "[1}]"] {
            assert!(split(&[bad]).is_err(), "{bad}");
        }
    }
}
