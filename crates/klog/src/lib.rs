//! The kernel log, in the dmesg style kernel developers read every day: simulated
//! timestamps `[   12.345678]`, OOM reports with a Mem-Info summary, hung-task warnings,
//! page allocation failures (rate-limited as `warn_alloc_failed` is) and the stack-overflow
//! report in the layout of the ftrace stack tracer (`/sys/kernel/debug/tracing/stack_trace`).
//!
//! Entries are rendered while the run is recorded, from the state right after the event's
//! tick, so the numbers are the ones the kernel would have printed then.

use pressure_lab_sim::block::memalloc_socks;
use pressure_lab_sim::config::{Op, TaskKind};
use pressure_lab_sim::event::{Event, MemInfo, ZoneMemInfo, RX_ALLOC_FAILED};
use pressure_lab_sim::gfp::Gfp;
use pressure_lab_sim::policy::AllocSlowpath;
use pressure_lab_sim::Sim;

/// `nopage_rs`, the ratelimit state `warn_alloc_failed` checks (mm/page_alloc.c, 2.6.35 …
/// 4.8; `warn_alloc` from 4.9): `DEFAULT_RATELIMIT_BURST` reports per
/// `DEFAULT_RATELIMIT_INTERVAL` (5·HZ), the rest counted and owned up to when the next
/// interval opens.
pub const ALLOC_FAIL_BURST: u32 = 10;
pub const RATELIMIT_INTERVAL_MS: u64 = 5_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The tick of the event (visible once the cursor is past it).
    pub tick: u64,
    /// `oom`, `hung`, `alloc_fail`, `overflow`, `reaped`, `knob`: for styling and tests.
    pub kind: &'static str,
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Klog {
    entries: Vec<Entry>,
    /// Every allocation failure report asked for (printed or not), as (tick, how many), in
    /// tick order: what [`Klog::truncate`] replays the ratelimit from after a fork.
    alloc_fails: Vec<(u64, u64)>,
    ratelimit: Ratelimit,
}

/// `struct ratelimit_state` as `___ratelimit` (lib/ratelimit.c) keeps it.
#[derive(Clone, Debug, Default)]
struct Ratelimit {
    begin: Option<u64>,
    printed: u32,
    missed: u64,
}

impl Ratelimit {
    /// `___ratelimit` for a report at `now`: whether to print it, and the reports missed in
    /// the interval that has just closed (printed first as "callbacks suppressed"). The
    /// interval opens at the first report after the last one ended (v4.5+, c2594bc37f4;
    /// before, it opened one report later — the same at one failure per millisecond).
    fn allow(&mut self, now: u64) -> (bool, u64) {
        let begin = *self.begin.get_or_insert(now);
        let mut missed = 0;
        if now > begin + RATELIMIT_INTERVAL_MS {
            missed = std::mem::take(&mut self.missed);
            self.begin = Some(now);
            self.printed = 0;
        }
        if self.printed < ALLOC_FAIL_BURST {
            self.printed += 1;
            (true, missed)
        } else {
            self.missed += 1;
            (false, missed)
        }
    }
}

/// `[   12.345678]`: seconds with microseconds, right-aligned as printk does.
pub fn timestamp(tick: u64) -> String {
    format!("[{:5}.{:06}]", tick / 1000, (tick % 1000) * 1000)
}

/// A made-up but stable pid: user tasks from 1000, kernel threads from 30.
pub fn pid(sim: &Sim, task: usize) -> u64 {
    let user = matches!(
        sim.config().tasks[task].kind,
        pressure_lab_sim::config::TaskKind::User { .. }
    );
    if user {
        1000 + task as u64
    } else {
        30 + task as u64
    }
}

impl Klog {
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every allocation failure report asked for before `tick`, printed or suppressed.
    pub fn alloc_failures_before(&self, tick: u64) -> u64 {
        self.alloc_fails
            .iter()
            .take_while(|(t, _)| *t < tick)
            .map(|(_, n)| n)
            .sum()
    }

    /// Forgets everything from `tick` on (a fork): the entries, and the ratelimit state,
    /// replayed from the reports before it.
    pub fn truncate(&mut self, tick: u64) {
        self.entries.retain(|e| e.tick < tick);
        let kept = self.alloc_fails.partition_point(|(t, _)| *t < tick);
        self.alloc_fails.truncate(kept);
        self.ratelimit = Ratelimit::default();
        for &(t, n) in &self.alloc_fails {
            for _ in 0..n {
                self.ratelimit.allow(t);
            }
        }
    }

    /// `warn_alloc_failed`'s ratelimit for `n` reports at `tick`: logs the "callbacks
    /// suppressed" line when an interval closes and returns how many of the `n` to print.
    fn ratelimited(&mut self, tick: u64, n: u64) -> u64 {
        match self.alloc_fails.last_mut() {
            Some((t, count)) if *t == tick => *count += n,
            _ => self.alloc_fails.push((tick, n)),
        }
        let mut printed = 0;
        for _ in 0..n {
            let (print, missed) = self.ratelimit.allow(tick);
            if missed > 0 {
                self.entries.push(Entry {
                    tick,
                    kind: "alloc_fail",
                    lines: vec![format!("warn_alloc_failed: {missed} callbacks suppressed")],
                });
            }
            printed += u64::from(print);
        }
        printed
    }

    /// Renders `ev` (emitted by the step at `tick`) from `sim`, the state right after it.
    /// Never inlined: the recording calls it for every event, and a copy in the recording's
    /// loop (compiled for speed) would be 1 KB of gzipped .wasm for no measurable gain.
    #[inline(never)]
    pub fn record(&mut self, tick: u64, ev: &Event, sim: &Sim) {
        let name = |t: usize| sim.config().tasks[t].name.clone();
        let (kind, lines) = match ev {
            Event::OomKill { victim, trigger, rss_pages, swap_pages, points, mem_info } => {
                let seen = OomKillSeen { rss_pages: *rss_pages, swap_pages: *swap_pages, points: *points, mem_info };
                ("oom", oom_report(sim, *victim, *trigger, seen))
            }
            // mm/oom_kill.c (4.6+) prints what is left, not what was freed: the event log
            // has the page count.
            Event::OomReaped { victim, .. } => ("reaped", vec![format!("oom_reaper: reaped process {} ({}), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB", pid(sim, *victim), name(*victim))]),
            Event::HungTask { task, function, blocked_ms } => {
                let mut stack = sim.call_stack(*task);
                let depth: u64 = stack.iter().map(|f| f.bytes).sum();
                let mut l = vec![
                    format!("INFO: task {}:{} blocked for more than {} seconds.", name(*task), pid(sim, *task), blocked_ms / 1000),
                    "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.".to_string(),
                    // sched_show_task (4.7): comm, state, free stack bytes (THREAD_SIZE
                    // minus the depth now), pid, parent pid (init or kthreadd), flags.
                    format!(
                        "{:<15.15} D {:5} {:5} {:6} 0x00000000",
                        name(*task),
                        u64::from(sim.state().knobs.thread_size).saturating_sub(depth),
                        pid(sim, *task),
                        if pid(sim, *task) >= 1000 { 1 } else { 2 },
                    ),
                    "Call Trace:".to_string(),
                ];
                stack.reverse();
                l.extend(stack.iter().map(|f| trace_line(&f.function)));
                if stack.is_empty() {
                    l.push(trace_line(function.name()));
                }
                ("hung", l)
            }
            Event::AllocFail { task, gfp, .. } => {
                if self.ratelimited(tick, 1) == 0 {
                    return;
                }
                ("alloc_fail", alloc_failure_report(sim, *task, gfp))
            }
            Event::PacketDrop { packets, reason, .. } if *reason == RX_ALLOC_FAILED => {
                // Each packet is one failed GFP_ATOMIC skb allocation in NET_RX. With memalloc
                // sockets the report is of the retry, which carried __GFP_MEMALLOC (the
                // first try was __GFP_NOWARN).
                let Some(net_rx) = sim.config().tasks.iter().position(|t| matches!(t.kind, TaskKind::NetRx)) else {
                    return;
                };
                let printed = self.ratelimited(tick, *packets);
                let mode = rx_gfp_mode(log_generation(sim), memalloc_socks(sim.config(), &sim.state().knobs));
                for _ in 0..printed {
                    self.entries.push(Entry { tick, kind: "alloc_fail", lines: alloc_failure_report(sim, net_rx, mode) });
                }
                return;
            }
            Event::StackOverflow { task, depth_bytes, thread_size } => ("overflow", overflow_report(sim, *task, *depth_bytes, *thread_size)),
            Event::KnobChanged { knob, value } => ("knob", vec![format!("sysctl: {knob} = {value} (policy fork)")]),
            _ => return,
        };
        self.entries.push(Entry { tick, kind, lines });
    }
}

/// `warn_alloc_failed`'s report, as every one that passes the ratelimit prints it: who
/// failed, the order and the mode, `dump_stack()`, then `show_mem`'s Mem-Info.
fn alloc_failure_report(sim: &Sim, task: usize, mode: &str) -> Vec<String> {
    let name = &sim.config().tasks[task].name;
    let generation = log_generation(sim);
    let mut l = vec![format!(
        "{name}: page allocation failure: order:0, mode:{mode}"
    )];
    l.extend(dump_stack(sim, task, generation, &["warn_alloc_failed"]));
    l.extend(show_mem(sim, &sim.mem_info(), generation));
    l
}

/// `dump_stack()` from a function the allocator called (`warn_alloc_failed`, or
/// `dump_header` on the way to an OOM kill): its first line — x86's own until 3.9
/// (arch/x86/kernel/dumpstack.c, "Pid: %d, comm: %.20s %s …"), lib/dump_stack.c's
/// `dump_stack_print_info` from 3.10 ("CPU: %d PID: %d Comm: …"), the release and version
/// left out — then the call trace, deepest frame first — `callees` on top of the allocator and the
/// task's stack from the allocator outwards (what the model shows deeper, a reclaim pass
/// in progress, is not on the way). Offsets are not modelled: `+0x0/0x0`.
fn dump_stack(sim: &Sim, task: usize, generation: LogGeneration, callees: &[&str]) -> Vec<String> {
    let name = &sim.config().tasks[task].name;
    let pid = pid(sim, task);
    let new_format = matches!(generation, LogGeneration::V4_5 | LogGeneration::V4_7);
    let mut l = vec![
        if new_format {
            format!("CPU: 0 PID: {pid} Comm: {name} Not tainted")
        } else {
            format!("Pid: {pid}, comm: {name} Not tainted")
        },
        "Call Trace:".to_string(),
    ];
    let mut stack = sim.call_stack(task);
    stack.reverse();
    let from_alloc = stack.iter().position(|f| f.function == ALLOC_PAGES);
    // lib/dump_stack.c (3.10+) shows its own frame; x86's 3.x dump_stack starts the trace
    // at its caller.
    let own = new_format.then_some("dump_stack");
    let above = own.into_iter().chain(callees.iter().copied());
    let alloc = from_alloc.is_none().then_some(ALLOC_PAGES);
    let callers = stack[from_alloc.unwrap_or(0)..]
        .iter()
        .map(|f| f.function.as_str());
    l.extend(above.chain(alloc).chain(callers).map(trace_line));
    l
}

/// One frame of a call trace. Offsets are not modelled: `+0x0/0x0`.
fn trace_line(function: &str) -> String {
    format!(" {function}+0x0/0x0")
}

/// The page allocator's entry point, where every failing allocation's trace passes.
const ALLOC_PAGES: &str = "__alloc_pages_nodemask";

/// The number of lines of an allocation failure report the log shows before its call
/// trace and Mem-Info (the header and dump_stack's first line): the UI folds the rest,
/// ten reports per 5 s being what a swap-over-network machine prints.
pub const ALLOC_FAIL_HEAD_LINES: usize = 2;

/// An RX skb's GFP_ATOMIC (`__GFP_HIGH`; from 4.4 also `__GFP_ATOMIC` and
/// `__GFP_KSWAPD_RECLAIM`), with `__GFP_MEMALLOC` while memalloc sockets exist, in the
/// printk format of the generation (4.6+ adds the flag names, `%pGg`).
fn rx_gfp_mode(generation: LogGeneration, memalloc: bool) -> &'static str {
    match (generation, memalloc) {
        (LogGeneration::V4_7, true) => "0x2082020(GFP_ATOMIC|__GFP_MEMALLOC)",
        (LogGeneration::V4_7, false) => "0x2080020(GFP_ATOMIC)",
        (LogGeneration::V4_5, true) => "0x2082020",
        (LogGeneration::V4_5, false) => "0x2080020",
        (LogGeneration::V3_6 | LogGeneration::V2_6_35, true) => "0x2020",
        (LogGeneration::V3_6 | LogGeneration::V2_6_35, false) => "0x20",
    }
}

/// The kernel generation whose printk formats the log uses, read off the knobs that date a
/// kernel: the 4.7 slow path (4.6's `%pGg` flag names, 4.4's GFP bit values), 16 KiB stacks
/// without it (3.15 … 4.5, printed as 4.5: new bits, hex only), the 3.x slow path, or the
/// 2.6.35 one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LogGeneration {
    V2_6_35,
    V3_6,
    V4_5,
    V4_7,
}

fn log_generation(sim: &Sim) -> LogGeneration {
    let knobs = &sim.state().knobs;
    match knobs.alloc_slowpath {
        AllocSlowpath::V4_7 => LogGeneration::V4_7,
        AllocSlowpath::V3_6 if knobs.thread_size > 8192 => LogGeneration::V4_5,
        AllocSlowpath::V3_6 => LogGeneration::V3_6,
        AllocSlowpath::V2_6_35 => LogGeneration::V2_6_35,
    }
}

/// The allocation that invoked the OOM killer, by what the task was doing: an anonymous
/// fault or a buffered write (GFP_HIGHUSER_MOVABLE), readahead for a read (the same with
/// `__GFP_COLD`, `__page_cache_alloc`), or a kernel allocation with its own mask.
fn oom_gfp_mask(sim: &Sim, task: usize, generation: LogGeneration) -> String {
    let op = match &sim.config().tasks[task].kind {
        TaskKind::User { program } => program.get(sim.state().tasks[task].op_index),
        _ => None,
    };
    // (bits before 4.4, bits from 4.4, the name %pGg prints)
    let (old, new, name) = match op {
        Some(Op::DmRead { .. }) => (0x201da, 0x24201ca, "GFP_HIGHUSER_MOVABLE|__GFP_COLD"),
        Some(Op::KernelAlloc { gfp, .. }) if *gfp == Gfp::KERNEL => (0xd0, 0x24000c0, "GFP_KERNEL"),
        _ => (0x200da, 0x24200ca, "GFP_HIGHUSER_MOVABLE"),
    };
    match generation {
        LogGeneration::V4_7 => format!("{new:#x}({name})"),
        LogGeneration::V4_5 => format!("{new:#x}"),
        LogGeneration::V3_6 | LogGeneration::V2_6_35 => format!("{old:#x}"),
    }
}

/// `dump_header` + `oom_kill_process`: the Mem-Info summary as the killer saw it, the score
/// and the victim's sizes, in the printk formats of the kernel generation (2.6.35: `oom_adj`
/// and "kill process … or a child"; 2.6.36 … 3.6: both adj values; 4.5: shmem-rss).
fn oom_report(sim: &Sim, victim: usize, trigger: usize, kill: OomKillSeen) -> Vec<String> {
    let cfg = sim.config();
    let kb = |pages: u64| pages * 4;
    let info = kill.mem_info;
    let generation = log_generation(sim);
    let adj = match generation {
        LogGeneration::V2_6_35 => "oom_adj=0",
        LogGeneration::V3_6 => "oom_adj=0, oom_score_adj=0",
        LogGeneration::V4_5 | LogGeneration::V4_7 => "oom_score_adj=0",
    };
    let mut l = vec![format!(
        "{} invoked oom-killer: gfp_mask={}, order=0, {adj}",
        cfg.tasks[trigger].name,
        oom_gfp_mask(sim, trigger, generation)
    )];
    let callees = ["dump_header", "oom_kill_process", "out_of_memory"];
    l.extend(dump_stack(sim, trigger, generation, &callees));
    l.extend(show_mem(sim, info, generation));
    let name = &cfg.tasks[victim].name;
    let pid = pid(sim, victim);
    // total_vm: the anonymous mapping the program touched, resident or swapped.
    let (vm, rss) = (kb(kill.rss_pages + kill.swap_pages), kb(kill.rss_pages));
    if generation == LogGeneration::V2_6_35 {
        l.push(format!(
            "Out of memory: kill process {pid} ({name}) score {} or a child",
            kill.points
        ));
        l.push(format!(
            "Killed process {pid} ({name}) vsz:{vm}kB, anon-rss:{rss}kB, file-rss:0kB"
        ));
    } else {
        l.push(format!(
            "Out of memory: Kill process {pid} ({name}) score {} or sacrifice child",
            kill.points
        ));
        let shmem = if generation == LogGeneration::V3_6 {
            ""
        } else {
            ", shmem-rss:0kB"
        };
        l.push(format!(
            "Killed process {pid} ({name}) total-vm:{vm}kB, anon-rss:{rss}kB, file-rss:0kB{shmem}"
        ));
    }
    l
}

/// `show_mem` → `show_free_areas`: "Mem-Info:", the node-wide counters, each zone's line
/// with its watermarks and `lowmem_reserve[]`, and swap.
fn show_mem(sim: &Sim, info: &MemInfo, generation: LogGeneration) -> Vec<String> {
    let cfg = sim.config();
    let kb = |pages: u64| pages * 4;
    let mut l = vec!["Mem-Info:".to_string()];
    l.extend(mem_info_summary(info, generation));
    let reserve = sim.lowmem_reserve_table();
    for ((zc, z), reserve) in cfg.zones.iter().zip(&info.zones).zip(&reserve) {
        let managed = if generation == LogGeneration::V2_6_35 {
            String::new()
        } else {
            format!(" managed:{}kB", kb(zc.managed_pages))
        };
        l.push(format!(
            "Node 0 {} free:{}kB min:{}kB low:{}kB high:{}kB active_anon:{}kB inactive_anon:{}kB active_file:{}kB inactive_file:{}kB isolated(anon):{}kB isolated(file):0kB present:{}kB{managed} dirty:{}kB writeback:{}kB slab_unreclaimable:{}kB",
            zc.name,
            kb(z.free),
            kb(z.min),
            kb(z.low),
            kb(z.high),
            kb(z.active_anon),
            kb(z.inactive_anon),
            kb(z.active_file),
            kb(z.inactive_file),
            kb(z.isolated_anon),
            kb(zc.managed_pages),
            kb(z.dirty),
            kb(z.writeback),
            kb(z.slab),
        ));
        let cols: Vec<String> = reserve.iter().map(u64::to_string).collect();
        l.push(format!("lowmem_reserve[]: {}", cols.join(" ")));
    }
    if info.swap_total > 0 {
        l.push(format!("Free swap  = {}kB", kb(info.swap_free)));
        l.push(format!("Total swap = {}kB", kb(info.swap_total)));
    }
    l
}

/// `show_free_areas`' node-wide counters in pages, laid out as each generation prints them
/// (mm/page_alloc.c: 2.6.35 and 3.x put `free` with the slab counters; 4.x moved it to
/// its own line with the per-cpu lists). Counters the model has no pages for print 0.
fn mem_info_summary(info: &MemInfo, generation: LogGeneration) -> Vec<String> {
    let sum = |f: fn(&ZoneMemInfo) -> u64| info.zones.iter().map(f).sum::<u64>();
    let (free, slab) = (sum(|z| z.free), sum(|z| z.slab));
    let mut l = vec![
        format!(
            "active_anon:{} inactive_anon:{} isolated_anon:{}",
            sum(|z| z.active_anon),
            sum(|z| z.inactive_anon),
            sum(|z| z.isolated_anon)
        ),
        format!(
            " active_file:{} inactive_file:{} isolated_file:0",
            sum(|z| z.active_file),
            sum(|z| z.inactive_file)
        ),
        format!(
            " unevictable:0 dirty:{} writeback:{} unstable:0",
            sum(|z| z.dirty),
            sum(|z| z.writeback)
        ),
    ];
    match generation {
        LogGeneration::V2_6_35 | LogGeneration::V3_6 => {
            l.push(format!(
                " free:{free} slab_reclaimable:0 slab_unreclaimable:{slab}"
            ));
            l.push(" mapped:0 shmem:0 pagetables:0 bounce:0".to_string());
        }
        LogGeneration::V4_5 | LogGeneration::V4_7 => {
            l.push(format!(" slab_reclaimable:0 slab_unreclaimable:{slab}"));
            l.push(" mapped:0 shmem:0 pagetables:0 bounce:0".to_string());
            l.push(format!(" free:{free} free_pcp:0 free_cma:0"));
        }
    }
    l
}

/// What `Event::OomKill` carries besides the two tasks.
struct OomKillSeen<'e> {
    rss_pages: u64,
    swap_pages: u64,
    points: u64,
    mem_info: &'e MemInfo,
}

fn overflow_report(sim: &Sim, task: usize, depth: u64, thread_size: u64) -> Vec<String> {
    let name = &sim.config().tasks[task].name;
    let mut l = vec![
        format!(
            "BUG: stack guard page was hit: {} (pid {}) used {} of {} bytes of its kernel stack",
            name,
            pid(sim, task),
            depth,
            thread_size
        ),
        format!(
            "kernel stack overflow: {} bytes past THREAD_SIZE",
            depth.saturating_sub(thread_size)
        ),
    ];
    // The stack that overflowed, frame by frame, when the model has it (the reclaim path,
    // `->writepage` and the seeded extra depth); else the task's stack now, with the
    // missing depth as one estimated entry.
    let stack = sim
        .overflow_stack()
        .map_or_else(|| sim.call_stack(task), <[_]>::to_vec);
    let shown: u64 = stack.iter().map(|f| f.bytes).sum();
    l.push(format!(
        "        Depth    Size   Location    ({} entries)",
        stack.len() + usize::from(depth > shown)
    ));
    l.push("        -----    ----   --------".to_string());
    // Deepest frame first, with the depth below it included, as stack_trace prints.
    let mut below = depth.max(shown);
    let mut i = 0;
    if depth > shown {
        l.push(format!(
            "  {:>2}) {:8} {:7}   reclaim ->writepage path (estimated)",
            i,
            below,
            depth - shown
        ));
        below = shown;
        i += 1;
    }
    for f in stack.iter().rev() {
        l.push(format!(
            "  {:>2}) {:8} {:7}   {}{}",
            i,
            below,
            f.bytes,
            f.function,
            if f.estimated && !f.function.contains("seeded)") {
                " (est.)"
            } else {
                ""
            }
        ));
        below = below.saturating_sub(f.bytes);
        i += 1;
    }
    l
}
