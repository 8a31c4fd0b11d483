//! The kernel log: [`pressure_lab_record::klog`] (its own crate, with the recording it is
//! written by). Its tests live here, where the built-in scenarios are.

pub use pressure_lab_record::klog::*;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::event::Event;
    use crate::sim::Sim;

    /// Runs a built-in scenario under `preset` (plus `sets`), logging every event, until
    /// the end or the first event `stop` picks; returns the sim, the log and that event.
    fn logged_run(
        name: &str,
        preset: &str,
        sets: &[(&str, &str)],
        stop: impl Fn(&Event) -> bool,
    ) -> (Sim, Klog, Option<Event>) {
        logged_run_file(crate::scenario::builtin(name).unwrap(), preset, sets, stop)
    }

    /// As [`logged_run`], for an edited scenario file.
    fn logged_run_file(
        file: crate::scenario::ScenarioFile,
        preset: &str,
        sets: &[(&str, &str)],
        stop: impl Fn(&Event) -> bool,
    ) -> (Sim, Klog, Option<Event>) {
        let sc = crate::scenario::validate(file).unwrap();
        let mut knobs = (crate::sim::policy::preset(preset).unwrap().knobs)();
        for (k, v) in sets {
            knobs.set(k, v).unwrap();
        }
        let mut sim = Sim::new(sc.config.clone(), knobs);
        let mut log = Klog::default();
        while !sim.is_finished() {
            let t = sim.tick();
            let events = sim.step().to_vec();
            for ev in events {
                log.record(t, &ev, &sim);
                if stop(&ev) {
                    return (sim, log, Some(ev));
                }
            }
        }
        (sim, log, None)
    }

    /// The function names of the call trace that follows an entry's "Call Trace:" line
    /// (its third).
    fn trace_of(lines: &[String]) -> Vec<&str> {
        assert_eq!(lines[2], "Call Trace:", "{lines:#?}");
        lines[3..]
            .iter()
            .map_while(|l| l.strip_prefix(' ')?.strip_suffix("+0x0/0x0"))
            .collect()
    }

    /// dm-crypt-swap under 4.9 with the 4.7 mempool (f9054c70): the run that ends in an
    /// OOM kill and the reaper, logged until `stop`.
    fn f9054c70_run(stop: impl Fn(&Event) -> bool) -> (Sim, Klog, Option<Event>) {
        logged_run(
            "dm-crypt-swap",
            "linux-4.9",
            &[("mempool_variant", "f9054c70")],
            stop,
        )
    }

    /// The first logged entry of `kind`.
    fn entry_of<'l>(log: &'l Klog, kind: &str) -> &'l Entry {
        log.entries()
            .iter()
            .find(|e| e.kind == kind)
            .unwrap_or_else(|| panic!("no {kind} entry logged"))
    }

    /// khungtaskd reports a task in an uninterruptible sleep that outlasts the timeout
    /// (kswapd0 in mempool_alloc's 5 s io_schedule_timeout, with the timeout at 1 s), and
    /// never one in pfmemalloc_wait: wait_event_killable is TASK_KILLABLE, which
    /// check_hung_uninterruptible_tasks skips.
    #[test]
    fn hung_task_reports_uninterruptible_sleeps_only() {
        let mut file = crate::scenario::builtin("dm-crypt-swap").unwrap();
        file.hung_task_timeout_ms = 1000;
        let (sim, log, _) = logged_run_file(file, "linux-4.7", &[], |_| false);
        let hung: Vec<&Entry> = log.entries().iter().filter(|e| e.kind == "hung").collect();
        assert!(!hung.is_empty());
        let text = hung[0].lines.join("\n");
        assert!(
            text.contains("INFO: task kswapd0:")
                && text.contains("blocked for more than 1 seconds."),
            "{text}"
        );
        assert!(text.contains("mempool_alloc"), "{text}");
        let hog = sim
            .config()
            .tasks
            .iter()
            .position(|t| t.name == "hog")
            .unwrap();
        let hog_slept_ms = sim.state().tasks[hog].sleep_ms_by_fn
            [crate::sim::event::SleepFn::PfmemallocWait.index()];
        assert!(
            hog_slept_ms > 1000,
            "the hog slept {hog_slept_ms} ms in pfmemalloc_wait"
        );
        assert!(
            hung.iter().all(|e| !e.lines[0].contains("task hog:")),
            "the hog's killable wait is not reported"
        );
    }

    #[test]
    fn timestamps_look_like_printk() {
        assert_eq!(timestamp(0), "[    0.000000]");
        assert_eq!(timestamp(12_345), "[   12.345000]");
        assert_eq!(timestamp(123_456_789), "[123456.789000]");
    }

    /// The stack-overflow report lists the stack that overflowed frame by frame: the
    /// ->writepage path and the seeded extra depth, deepest first, depths adding up.
    #[test]
    fn overflow_report_lists_the_overflowing_stack() {
        let (sim, log, _) = logged_run("direct-reclaim-writepage-xfs", "linux-2.6.33", &[], |_| {
            false
        });
        let entry = entry_of(&log, "overflow");
        let text = entry.lines.join("\n");
        assert!(text.contains("xfs_vm_writepage"), "{text}");
        assert!(text.contains("mempool_alloc_slab"), "{text}");
        assert!(text.contains("seeded)"), "{text}");
        assert!(
            !text.contains("reclaim ->writepage path (estimated)"),
            "{text}"
        );
        let (_, depth) = sim.state().overflow.unwrap();
        assert!(
            entry.lines[4].contains(&depth.to_string()),
            "{}",
            entry.lines[4]
        );
    }

    /// The OOM header and kill lines in each kernel generation's printk format, with the
    /// mask of the allocation that invoked the killer: a readahead page (`__GFP_COLD`) or
    /// an anonymous fault, in pre-4.4 or 4.4+ bit values, flag names from 4.6.
    #[test]
    fn oom_report_speaks_the_kernel_generation() {
        let kill = |name: &str, preset: &str, sets: &[(&str, &str)]| {
            let (sim, log, _) =
                logged_run(name, preset, sets, |ev| matches!(ev, Event::OomKill { .. }));
            (sim, entry_of(&log, "oom").lines.clone())
        };
        let pid_of = |sim: &Sim, name: &str| {
            pid(
                sim,
                sim.config()
                    .tasks
                    .iter()
                    .position(|t| t.name == name)
                    .unwrap(),
            )
        };
        let (_, old) = kill("oom-victim-mempool", "linux-2.6.35", &[]);
        assert_eq!(
            old[0],
            "reader invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0"
        );
        assert!(
            old.iter().any(
                |l| l.starts_with("Out of memory: kill process 1000 (reader) score ")
                    && l.ends_with(" or a child")
            ),
            "{old:?}"
        );
        assert!(
            old.iter()
                .any(|l| l.starts_with("Killed process 1000 (reader) vsz:")),
            "{old:?}"
        );
        let (_, v45) = kill("oom-victim-mempool", "linux-4.5", &[]);
        assert_eq!(
            v45[0],
            "hog invoked oom-killer: gfp_mask=0x24200ca, order=0, oom_score_adj=0"
        );
        assert!(
            v45.iter()
                .any(|l| l.ends_with("file-rss:0kB, shmem-rss:0kB")),
            "{v45:?}"
        );
        let (v47_sim, v47) = kill(
            "dm-crypt-swap",
            "linux-4.9",
            &[("mempool_variant", "f9054c70")],
        );
        assert_eq!(v47[0], "hog invoked oom-killer: gfp_mask=0x24200ca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0");
        // show_free_areas' layout: 4.x prints free on its own line with the per-cpu lists,
        // 2.6.35 and 3.x with the slab counters; each zone line is followed by its
        // lowmem_reserve[] against every classzone (DMA keeps DMA32's 258048 pages / 256).
        // dump_header's dump_stack: the trigger faulting in its anonymous page, the
        // allocator calling out_of_memory.
        assert_eq!(
            v47[1],
            format!(
                "CPU: 0 PID: {} Comm: hog Not tainted",
                pid_of(&v47_sim, "hog")
            )
        );
        let trace = trace_of(&v47);
        assert_eq!(
            trace[..5],
            [
                "dump_stack",
                "dump_header",
                "oom_kill_process",
                "out_of_memory",
                "__alloc_pages_nodemask"
            ]
        );
        assert_eq!(trace.last(), Some(&"page_fault"), "{trace:?}");
        let v47 = &v47[3 + trace.len()..];
        assert_eq!(v47[0], "Mem-Info:");
        assert!(v47[1].starts_with("active_anon:") && v47[2].starts_with(" active_file:"));
        assert!(
            v47[6].starts_with(" free:") && v47[6].ends_with(" free_pcp:0 free_cma:0"),
            "{v47:?}"
        );
        assert!(
            v47[7].starts_with("Node 0 DMA free:") && v47[7].contains(" managed:16384kB"),
            "{v47:?}"
        );
        assert_eq!(v47[8], "lowmem_reserve[]: 0 1008");
        assert!(v47[9].starts_with("Node 0 DMA32 free:"), "{v47:?}");
        assert_eq!(v47[10], "lowmem_reserve[]: 0 0");
        // 2.6.35: x86's dump_stack line, and the trace starts at dump_header.
        assert!(
            old[1].starts_with("Pid: 1000, comm: reader Not tainted"),
            "{old:?}"
        );
        let old_trace = trace_of(&old);
        assert_eq!(old_trace[0], "dump_header", "{old_trace:?}");
        let old = &old[3 + old_trace.len()..];
        assert!(
            old[4].starts_with(" free:") && old[4].contains(" slab_unreclaimable:"),
            "{old:?}"
        );
        assert!(
            !old.iter().any(|l| l.contains("managed:")),
            "2.6.35 prints present only: {old:?}"
        );
    }

    /// The reaper's line as mm/oom_kill.c (4.6+) prints it: what is left of the victim.
    #[test]
    fn oom_reaper_reports_what_is_left() {
        let (sim, log, ev) = f9054c70_run(|ev| matches!(ev, Event::OomReaped { .. }));
        assert!(matches!(ev, Some(Event::OomReaped { pages, .. }) if pages > 0));
        let hog = sim
            .config()
            .tasks
            .iter()
            .position(|t| t.name == "hog")
            .unwrap();
        assert_eq!(
            entry_of(&log, "reaped").lines,
            [format!(
                "oom_reaper: reaped process {} (hog), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
                pid(&sim, hog)
            )]
        );
    }

    /// The OOM report prints the kernel's score, worked out from the victim's pages:
    /// (rss + swap entries + one page-table page per 512) × 1000 / (RAM + swap pages).
    #[test]
    fn oom_report_scores_the_victim_like_oom_badness() {
        let (_, log, kill) = f9054c70_run(|ev| matches!(ev, Event::OomKill { .. }));
        let kill = kill.map(|ev| match ev {
            Event::OomKill {
                rss_pages,
                swap_pages,
                points,
                ..
            } => (rss_pages, swap_pages, points),
            _ => unreachable!("stopped at the kill"),
        });
        let (rss, swap, points) = kill.expect("4.9's reclaim with the 4.7 mempool OOMs here");
        let touched = rss + swap;
        // 1 GiB of RAM (262144 pages) + 4 GiB of swap (1048576 pages).
        assert_eq!(
            points,
            (touched + touched.div_ceil(512)) * 1000 / (262_144 + 1_048_576)
        );
        assert!(points > 0 && points < 1000, "{points}");
        let entry = entry_of(&log, "oom");
        let text = entry.lines.join("\n");
        assert!(
            text.contains(&format!(
                "Kill process 1000 (hog) score {points} or sacrifice child"
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "total-vm:{}kB, anon-rss:{}kB",
                touched * 4,
                rss * 4
            )),
            "{text}"
        );
    }

    /// `___ratelimit` as warn_alloc_failed meets it: ten reports per 5 s interval, the rest
    /// counted and owned up to ("callbacks suppressed") by the first report after the
    /// interval; a fork replays the count from the reports it keeps.
    #[test]
    fn allocation_failure_reports_are_ratelimited_ten_per_five_seconds() {
        let sc =
            crate::scenario::validate(crate::scenario::builtin("swap-over-nbd").unwrap()).unwrap();
        let knobs = (crate::sim::policy::preset("linux-3.5").unwrap().knobs)();
        let sim = Sim::new(sc.config.clone(), knobs);
        let drop = Event::PacketDrop {
            device: 0,
            packets: 1,
            reason: crate::sim::event::RX_ALLOC_FAILED,
        };
        let lines = |log: &Klog| -> Vec<(u64, String)> {
            log.entries()
                .iter()
                .map(|e| (e.tick, e.lines[0].clone()))
                .collect()
        };
        let mut log = Klog::default();
        for t in 0..=20 {
            log.record(t, &drop, &sim);
        }
        let report = "net_rx: page allocation failure: order:0, mode:0x20";
        let first: Vec<(u64, String)> = (0..10).map(|t| (t, report.to_string())).collect();
        assert_eq!(lines(&log), first);
        // 5000 ms after the interval opened is still inside it; 5001 opens the next.
        log.record(5_000, &drop, &sim);
        assert_eq!(log.entries().len(), 10);
        let mut forked = log.clone();
        log.record(5_001, &drop, &sim);
        let mut want = first.clone();
        want.push((
            5_001,
            "warn_alloc_failed: 12 callbacks suppressed".to_string(),
        ));
        want.push((5_001, report.to_string()));
        assert_eq!(lines(&log), want);
        assert_eq!(log.alloc_failures_before(u64::MAX), 23);
        // A fork at 15 keeps the reports of ticks 0–14: five of them were suppressed.
        forked.truncate(15);
        assert_eq!(forked.alloc_failures_before(u64::MAX), 15);
        forked.record(5_001, &drop, &sim);
        let mut want = first;
        want.push((
            5_001,
            "warn_alloc_failed: 5 callbacks suppressed".to_string(),
        ));
        want.push((5_001, report.to_string()));
        assert_eq!(lines(&forked), want);
    }

    /// Swap over NBD under 3.5: every packet NET_RX cannot allocate an skb for is a
    /// GFP_ATOMIC failure that warn_alloc_failed reports (mode 0x20), ratelimited; with
    /// the 3.6 machinery on a 4.7 kernel but reserves forced off, the 4.7 format
    /// (`%#x(%pGg)`) and GFP_ATOMIC's 4.4 bits.
    #[test]
    fn swap_over_nbd_without_reserves_logs_rx_allocation_failures() {
        let (sim, log, _) = logged_run("swap-over-nbd", "linux-3.5", &[], |_| false);
        let reports: Vec<&Entry> = log
            .entries()
            .iter()
            .filter(|e| e.lines[0].contains("page allocation failure"))
            .collect();
        assert!(reports.len() >= 10, "{}", reports.len());
        assert_eq!(
            reports[0].lines[0],
            "net_rx: page allocation failure: order:0, mode:0x20"
        );
        // 3.5's dump_stack is x86's own (lib/dump_stack.c's "CPU: … PID: … Comm:" is 3.10's).
        let net_rx = pid(&sim, 10);
        assert_eq!(sim.config().tasks[10].name, "net_rx");
        assert_eq!(
            reports[0].lines[1],
            format!("Pid: {net_rx}, comm: net_rx Not tainted")
        );
        // The rest of dump_stack: the trace from warn_alloc_failed (x86's 3.x dump_stack
        // starts at its caller) down to the softirq; 3.5's __alloc_skb calls
        // kmalloc_node_track_caller itself (kmalloc_reserve came with 3.6's reserves).
        let trace = trace_of(&reports[0].lines);
        assert_eq!(
            trace,
            [
                "warn_alloc_failed",
                "__alloc_pages_nodemask",
                "__kmalloc_node_track_caller",
                "__alloc_skb",
                "__netdev_alloc_skb",
                "napi_gro_receive",
                "net_rx_action",
                "__do_softirq",
                "irq_exit"
            ]
        );
        // Then show_mem, as the allocation saw it: the one zone below GFP_ATOMIC's floor
        // (3/8 of min = 543 pages, 2172 kB).
        let mem_info = &reports[0].lines[3 + trace.len()..];
        assert_eq!(mem_info[0], "Mem-Info:");
        let zone = mem_info
            .iter()
            .find_map(|l| l.strip_prefix("Node 0 Normal free:"))
            .expect("the Normal zone's line");
        let free_kb: u64 = zone.split("kB").next().unwrap().parse().unwrap();
        assert!(
            zone.contains(" min:5792kB low:7240kB high:8688kB "),
            "{zone}"
        );
        assert!(free_kb < 2172, "{zone}");
        assert!(mem_info.iter().any(|l| l.starts_with("Total swap = ")));
        let suppressed: u64 = log
            .entries()
            .iter()
            .filter_map(|e| e.lines[0].strip_prefix("warn_alloc_failed: "))
            .map(|rest| rest.split(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert!(suppressed > 0);
        // Every RX drop is a report asked for (3.5 has no memalloc sockets, so every drop is
        // a failed allocation); printed and owned-up-to ones are all of them but the last
        // interval's suppressed reports, which no later report owns up to.
        let asked = log.alloc_failures_before(u64::MAX);
        assert_eq!(asked, sim.state().counters.packets_dropped);
        let printed = reports.len() as u64;
        assert!(
            printed + suppressed < asked,
            "{printed} printed, {suppressed} suppressed, {asked} asked"
        );
        // At most ten reports in any 5 s.
        for (i, r) in reports.iter().enumerate().skip(10) {
            assert!(
                r.tick > reports[i - 10].tick + 5_000,
                "report {i} at {}",
                r.tick
            );
        }

        // 4.5 (16 KiB stacks, the 3.6 slow path) without the reserves: GFP_ATOMIC's 4.4
        // bits, printed in hex only.
        let (_, log, _) = logged_run(
            "swap-over-nbd",
            "linux-4.5",
            &[("pfmemalloc_reserves", "off")],
            |_| false,
        );
        let report = entry_of(&log, "alloc_fail");
        assert_eq!(
            report.lines[0],
            "net_rx: page allocation failure: order:0, mode:0x2080020"
        );
        assert_eq!(
            report.lines[1],
            format!("CPU: 0 PID: {net_rx} Comm: net_rx Not tainted")
        );
        // lib/dump_stack.c (3.10+) shows its own frame first.
        assert_eq!(
            report.lines[3..5],
            [" dump_stack+0x0/0x0", " warn_alloc_failed+0x0/0x0"]
        );
    }

    /// 4.6+ prints the flag names (`%pGg`); with memalloc sockets the failed allocation is
    /// kmalloc_reserve's retry, which carries __GFP_MEMALLOC.
    #[test]
    fn rx_allocation_failures_print_the_mode_of_the_retry() {
        let sc =
            crate::scenario::validate(crate::scenario::builtin("swap-over-nbd").unwrap()).unwrap();
        let drop = Event::PacketDrop {
            device: 0,
            packets: 1,
            reason: crate::sim::event::RX_ALLOC_FAILED,
        };
        for (reserves, mode) in [
            ("on", "0x2082020(GFP_ATOMIC|__GFP_MEMALLOC)"),
            ("off", "0x2080020(GFP_ATOMIC)"),
        ] {
            let mut knobs = (crate::sim::policy::preset("linux-4.7").unwrap().knobs)();
            knobs.set("pfmemalloc_reserves", reserves).unwrap();
            let sim = Sim::new(sc.config.clone(), knobs);
            let mut log = Klog::default();
            log.record(0, &drop, &sim);
            let lines = &log.entries()[0].lines;
            assert_eq!(
                lines[0],
                format!("net_rx: page allocation failure: order:0, mode:{mode}")
            );
            // 3.6's __alloc_skb allocates through kmalloc_reserve.
            let via_reserve = lines.iter().any(|l| l == " kmalloc_reserve+0x0/0x0");
            assert_eq!(via_reserve, reserves == "on", "{lines:#?}");
        }
    }
}
