//! The reader against its own line loop on real and mutated mboxes, and
//! the framing rules one case at a time.

use super::*;

fn frame(input: &[u8], cap: u64) -> Vec<Result<RawMessage, MailError>> {
    MessageReader::sniffed(input)
        .unwrap()
        .max_message_size(cap)
        .collect()
}

/// Frames `input` through a `BufReader` of `capacity` bytes, with or
/// without the bulk copy; errors by reason.
fn frame_with(
    input: &[u8],
    cap: u64,
    capacity: usize,
    bulk: bool,
) -> Vec<Result<RawMessage, &'static str>> {
    let mut r = MessageReader::sniffed(std::io::BufReader::with_capacity(capacity, input)).unwrap();
    r.bulk = bulk;
    r.max_message_size(cap)
        .map(|m| match m {
            Ok(m) => Ok(m),
            Err(MailError::Oversize {
                prefix,
                offset,
                index,
                size,
                ..
            }) => Ok(RawMessage {
                bytes: prefix,
                offset,
                index,
                mbox_from_time: None,
                envelope_sender: Some(format!("oversize {size}")),
            }),
            Err(e) => Err(e.reason()),
        })
        .collect()
}

/// The bulk copy frames exactly as the line-by-line loop: every real
/// spam and ham file, the start of the bench corpus when present, and
/// mutated copies with separators, quoted `From` lines, blank lines and
/// CRLF spliced in, through buffers of 7 bytes to 64 KiB and with caps
/// that cut messages.
#[test]
fn bulk_lines_equal_the_line_loop() {
    let Some(data) = crate::test_support::shared_data("bulk_lines_equal_the_line_loop") else {
        return;
    };
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let files = crate::test_support::data_files(&data, &["spam", "ham"]);
    assert!(files.len() > 1000);
    let mut inputs: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let bench = std::path::Path::new(root).join("bench-out/bench-mail/corpus/part-00.mbox");
    if let Ok(b) = std::fs::read(bench) {
        inputs.push(b[..b.len().min(4 << 20)].to_vec());
    }
    let splice: [&[u8]; 9] = [
        b"\n\nFrom x@y Tue Nov 11 21:30:00 2008\n",
        b"\nFrom ",
        b"\n>From ",
        b"\n>>From q\n",
        b"\r\n\r\n",
        b"\n\n",
        b"From ",
        b"\n>",
        b"\r",
    ];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut compared = 0usize;
    for (k, input) in inputs.iter().enumerate() {
        let caps = [1u64 << 30, 300];
        let sizes: &[usize] = if k % 16 == 0 {
            &[7, 100, 65536]
        } else {
            &[4096]
        };
        for &capacity in sizes {
            for cap in caps {
                let a = frame_with(input, cap, capacity, true);
                let b = frame_with(input, cap, capacity, false);
                assert_eq!(a, b, "input {k} capacity {capacity} cap {cap}");
                compared += 1;
            }
        }
        if input.len() > 1 << 20 {
            continue;
        }
        let mut t = input.clone();
        for _ in 0..4 {
            x = crate::test_support::xorshift(x);
            let at = (x >> 20) as usize % (t.len() + 1);
            let ins = splice[(x % splice.len() as u64) as usize];
            t.splice(at..at, ins.iter().copied());
        }
        for capacity in [64, 4096] {
            let a = frame_with(&t, 1 << 30, capacity, true);
            let b = frame_with(&t, 1 << 30, capacity, false);
            assert_eq!(a, b, "mutated input {k} capacity {capacity}");
            compared += 1;
        }
    }
    assert!(compared > 4000, "{compared}");
}

#[test]
fn envelope_lines_separate_without_a_blank_line() {
    // `cat a.mbox b.mbox` where a.mbox does not end with an empty line.
    let input = b"From a Tue Nov 11 21:30:00 2008\nA: 1\n\nbody\nFrom b@c Wed Nov 12 01:02:03 2008\nB: 2\n\nx\nFrom the start\nFrom me on Tue Nov 11 2008\nFrom c Thu Nov 13 01:02 PST 2008 remote from x\r\nC: 3\n\ny\n";
    let msgs: Vec<RawMessage> = frame(input, 1 << 20)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let bodies: Vec<&[u8]> = msgs.iter().map(|m| &m.bytes[..]).collect();
    assert_eq!(
        bodies,
        [
            &b"A: 1\n\nbody\n"[..],
            b"B: 2\n\nx\nFrom the start\nFrom me on Tue Nov 11 2008\n",
            b"C: 3\n\ny\n"
        ]
    );
    assert_eq!(msgs[1].envelope_sender.as_deref(), Some("b@c"));
    assert_eq!(&input[msgs[1].offset as usize..][..7], b"From b@");
}

#[test]
fn separator_needs_a_preceding_blank_line() {
    let input = b"From a Tue Nov 11 21:30:00 2008\nA: 1\n\nline\nFrom the start\n\nFrom b Tue Nov 11 21:30:00 2008\nB: 2\n\nx\n";
    let msgs = frame(input, 1 << 20);
    assert_eq!(msgs.len(), 2);
    let m0 = msgs[0].as_ref().unwrap();
    assert_eq!(m0.bytes, b"A: 1\n\nline\nFrom the start\n");
    assert_eq!(m0.offset, 0);
    assert_eq!(
        m0.mbox_from_time.unwrap().to_rfc3339(),
        "2008-11-11T21:30:00Z"
    );
    let m1 = msgs[1].as_ref().unwrap();
    assert_eq!(m1.index, 1);
    assert_eq!(&input[m1.offset as usize..][..7], b"From b ");
    assert_eq!(m1.bytes, b"B: 2\n\nx\n");
}

#[test]
fn recycled_buffers_give_the_same_messages() {
    let mut mbox = Vec::new();
    for i in 0..300 {
        mbox.extend_from_slice(
            format!("From a@b Tue Nov 11 21:31:{:02} 2008\n", i % 60).as_bytes(),
        );
        mbox.extend_from_slice(format!("Subject: {i}\n\n").as_bytes());
        mbox.extend_from_slice("x".repeat(i * 37 % 5000).as_bytes());
        mbox.extend_from_slice(b"\n>From quoted\n\n");
    }
    let plain: Vec<_> = MessageReader::new(&mbox[..], Framing::Mbox)
        .map(|m| m.unwrap())
        .collect();
    let mut reader = MessageReader::new(&mbox[..], Framing::Mbox);
    let mut recycled = Vec::new();
    // Buffers come back dirty and of every size; the pool is bounded.
    for _ in 0..SPARE_BUFFERS + 10 {
        reader.recycle(b"left over".repeat(3));
    }
    reader.recycle(Vec::with_capacity(SPARE_CAPACITY + 1));
    assert!(reader.spare.len() <= SPARE_BUFFERS);
    assert!(reader.spare_bytes <= SPARE_BYTES);
    while let Some(m) = reader.next() {
        let m = m.unwrap();
        recycled.push(RawMessage {
            bytes: m.bytes.clone(),
            ..m
        });
        reader.recycle(m.bytes);
    }
    assert_eq!(plain.len(), 300);
    assert_eq!(plain.len(), recycled.len());
    for (a, b) in plain.iter().zip(&recycled) {
        assert_eq!(a.bytes, b.bytes);
        assert_eq!((a.offset, a.index), (b.offset, b.index));
        assert_eq!(a.envelope_sender, b.envelope_sender);
    }
}

#[test]
fn crlf_and_mboxrd_unquoting() {
    let input = b"From a Tue Nov 11 21:30:00 2008\r\nA: 1\r\n\r\n>From x\r\n>>From y\r\n>Fromage\r\n\r\nFrom b Tue Nov 11 21:30:00 2008\r\nB: 2\r\n";
    let msgs = frame(input, 1 << 20);
    assert_eq!(msgs.len(), 2);
    assert_eq!(
        msgs[0].as_ref().unwrap().bytes,
        b"A: 1\r\n\r\nFrom x\r\n>From y\r\n>Fromage\r\n"
    );
    assert_eq!(msgs[1].as_ref().unwrap().bytes, b"B: 2\r\n");
}

#[test]
fn oversize_message_is_an_error_and_reading_continues() {
    let mut input = b"From a Tue Nov 11 21:30:00 2008\nA: 1\n\n".to_vec();
    for _ in 0..100 {
        input.extend_from_slice(b"0123456789012345678901234567890123456789\n");
    }
    input.extend_from_slice(b"\nFrom b Tue Nov 11 21:30:00 2008\nB: 2\n\nok\n");
    let msgs = frame(&input, 1000);
    assert_eq!(msgs.len(), 2);
    match &msgs[0] {
        Err(MailError::Oversize {
            prefix,
            cap,
            size,
            index,
            ..
        }) => {
            assert_eq!(*cap, 1000);
            assert_eq!(prefix.len(), 1000);
            assert!(*size > 4000, "{size}");
            assert_eq!(*index, 0);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(msgs[1].as_ref().unwrap().bytes, b"B: 2\n\nok\n");
}

#[test]
fn one_huge_line_is_capped_in_memory() {
    let mut input = b"Subject: ".to_vec();
    input.extend(std::iter::repeat_n(b'x', 3 << 20));
    input.extend_from_slice(b"\n\nbody\n");
    let msgs = frame(&input, 1 << 20);
    assert_eq!(msgs.len(), 1);
    assert!(matches!(&msgs[0], Err(MailError::Oversize { prefix, .. }) if prefix.len() == 1 << 20));
}

#[test]
fn single_framing_keeps_from_lines() {
    let input = b"Subject: x\n\nbody\n\nFrom here\n";
    let msgs = frame(input, 1 << 20);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].as_ref().unwrap().bytes, input);
}

#[test]
fn empty_stream_has_no_messages() {
    assert!(frame(b"", 10).is_empty());
    assert!(frame(b"\n\n", 10).is_empty());
}

#[test]
fn the_empty_line_ending_the_file_is_not_content() {
    // Every mbox message ends with an empty line, the last one too; a file
    // that does not end with one keeps its last line (as Python's mailbox).
    let two = b"From a Tue Nov 11 21:30:00 2008\nA: 1\n\nx\n\nFrom b Tue Nov 11 21:30:00 2008\nB: 2\n\ny\n\n";
    let bodies = |input: &[u8]| -> Vec<Vec<u8>> {
        frame(input, 1 << 20)
            .into_iter()
            .map(|m| m.unwrap().bytes)
            .collect()
    };
    assert_eq!(
        bodies(two),
        [b"A: 1\n\nx\n".to_vec(), b"B: 2\n\ny\n".to_vec()]
    );
    let crlf = b"From a Tue Nov 11 21:30:00 2008\r\nA: 1\r\n\r\ny\r\n\r\n";
    assert_eq!(bodies(crlf), [b"A: 1\r\n\r\ny\r\n".to_vec()]);
    let unended = b"From a Tue Nov 11 21:30:00 2008\nA: 1\n\ny\n";
    assert_eq!(bodies(unended), [b"A: 1\n\ny\n".to_vec()]);
    // Only one empty line is the separator's; the others are the body's.
    let two_blank = b"From a Tue Nov 11 21:30:00 2008\nA: 1\n\ny\n\n\n";
    assert_eq!(bodies(two_blank), [b"A: 1\n\ny\n\n".to_vec()]);
}
