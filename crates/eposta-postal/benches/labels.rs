//! How long one PDF of 1,000 labels (the API's largest batch) takes to render, and one label
//! alone. Run in release:
//!
//! ```sh
//! cargo bench -p eposta-postal --bench labels
//! ```

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use eposta_formats::s10::S10;
use eposta_postal::labels::{Address, LabelData, label_pdf, labels_pdf};

fn label(k: u32) -> Result<LabelData, Box<dyn std::error::Error>> {
    Ok(LabelData {
        tracking_number: S10::new("RA", 10_000_000 + k, "RS")?,
        booking_code: format!("BK{k:08}"),
        product: "Paket do 2 kg".into(),
        weight_g: 500 + k % 1500,
        options: vec!["Otkupnina 1.500,00 RSD".into(), "Povratnica".into()],
        sender: Address {
            name: "Web prodavnica Čačak d.o.o.".into(),
            street: "Gradsko šetalište".into(),
            number: "1".into(),
            postal_code: "32000".into(),
            place: "Čačak".into(),
            phone: Some("+381 32 123456".into()),
        },
        recipient: Address {
            name: format!("Купац Број {k} Ђорђевић"),
            street: "Кнеза Михаила".into(),
            number: (k % 200 + 1).to_string(),
            postal_code: "11000".into(),
            place: "Београд".into(),
            phone: Some("+381 64 1234567".into()),
        },
        date: NaiveDate::from_ymd_opt(2026, 3, 15).ok_or("date")?,
    })
}

fn best_of(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut size = 0;
    for _ in 0..runs {
        let start = Instant::now();
        size = f();
        best = best.min(start.elapsed());
    }
    (best, size)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let labels = (0..1_000).map(label).collect::<Result<Vec<_>, _>>()?;

    let (batch, batch_size) = best_of(5, || labels_pdf(&labels).map_or(0, |pdf| pdf.len()));
    let (one, one_size) = best_of(50, || label_pdf(&labels[0]).map_or(0, |pdf| pdf.len()));
    if batch_size == 0 || one_size == 0 {
        return Err("rendering failed".into());
    }
    println!(
        "1,000 labels in one PDF: {:.1} ms ({:.0} labels/s), {} KB",
        batch.as_secs_f64() * 1e3,
        1_000.0 / batch.as_secs_f64(),
        batch_size / 1024
    );
    println!(
        "1 label: {:.2} ms, {} KB",
        one.as_secs_f64() * 1e3,
        one_size / 1024
    );
    Ok(())
}
