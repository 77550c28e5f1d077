//! Runs the detector on many CSV files in one process (for the scorer's
//! parameter sweeps; `depeer detect` is the user-facing command).
//!
//! `detect_many [key=value ...] FILE...` with keys `model` (linear|constant|either),
//! `penalty`, `slope`, `floor`, `noise_floor`, `min`, `despike` (a number or
//! `none`), `half`,
//! `column`. Prints one line per file: `FILE<TAB>n<TAB>cp,cp,...<TAB>seconds`.

use depeer_analysis::{Model, Params, detect, read_series};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut params = Params::default();
    let mut column = "value".to_string();
    let mut repeat = 1usize;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.split_once('=') {
            Some(("model", "linear")) => params.model = Model::Linear,
            Some(("model", "constant")) => params.model = Model::Constant,
            Some(("model", "either")) => params.model = Model::Either,
            Some(("slope", v)) => params.slope_penalty = v.parse()?,
            Some(("penalty", v)) => params.penalty = v.parse()?,
            Some(("floor", v)) => params.floor = v.parse()?,
            Some(("noise_floor", v)) => params.noise_floor = v.parse()?,
            Some(("min", v)) => params.min_segment = v.parse()?,
            Some(("despike", "none")) => params.despike = None,
            Some(("despike", v)) => params.despike = Some(v.parse()?),
            Some(("half", v)) => params.despike_half = v.parse()?,
            Some(("column", v)) => column = v.to_string(),
            Some(("repeat", v)) => repeat = v.parse::<usize>()?.max(1),
            Some((k, _)) => return Err(format!("unknown key {k}").into()),
            None => files.push(arg),
        }
    }
    for f in files {
        let series = read_series(std::fs::File::open(&f)?, &column)?;
        let mut secs = f64::INFINITY;
        let mut d = None;
        for _ in 0..repeat {
            let start = std::time::Instant::now();
            let got = detect(&series.values, &params);
            secs = secs.min(start.elapsed().as_secs_f64());
            d = Some(got);
        }
        let Some(d) = d else { continue };
        let cps: Vec<String> = d.change_points.iter().map(ToString::to_string).collect();
        println!("{f}\t{}\t{}\t{secs:.9}", d.n, cps.join(","));
    }
    Ok(())
}
