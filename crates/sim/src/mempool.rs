//! Memory pools (mm/mempool.c): `mempool_alloc` in the seven control flows of
//! kernel-mm.md §6 and §14, as *data* — one loop reads a [`VariantRules`] value — plus
//! `mempool_free`, which refills the reserve and wakes `pool->wait`.
//!
//! A call asks for `want` elements at once (aggregation); each "round" of the loop is the
//! kernel's round for the next element that could not be had.

use super::config::PoolElement;
use super::event::{Event, SleepFn};
use super::gfp::{gfp_to_alloc_flags, Gfp};
use super::page_alloc::{self, PageUse};
use super::policy::MempoolVariant;
use super::state::{MempoolCtx, WaitQueue};
use super::time::MEMPOOL_WAIT_TICKS;
use super::{Ctx, Step};

/// How one variant differs from the others; the loop in [`mempool_alloc`] reads only this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VariantRules {
    /// __GFP_NOMEMALLOC forced on every call (all but C).
    pub force_nomemalloc: bool,
    /// C (f9054c70d28b): NOMEMALLOC only while the pool has elements.
    pub nomemalloc_only_if_elements: bool,
    /// D/E/transient: NOMEMALLOC dropped for a TIF_MEMDIE caller when the pool is empty.
    pub memdie_gets_reserves: bool,
    /// B/C/D/E/transient: after the first failed round, retry at once with the full mask.
    pub immediate_reclaim_retry: bool,
    /// F (NeilBrown): __GFP_DIRECT_RECLAIM permanently masked out of pool->alloc.
    pub never_direct_reclaim: bool,
    /// E: PF_LESS_THROTTLE set for the duration of the call.
    pub less_throttle: bool,
    /// Transient: GFP_TRANSIENT passed with every pool->alloc.
    pub transient: bool,
}

pub fn rules(variant: MempoolVariant) -> VariantRules {
    let b = VariantRules {
        force_nomemalloc: true,
        nomemalloc_only_if_elements: false,
        memdie_gets_reserves: false,
        immediate_reclaim_retry: true,
        never_direct_reclaim: false,
        less_throttle: false,
        transient: false,
    };
    match variant {
        MempoolVariant::V2_6_35 => VariantRules {
            immediate_reclaim_retry: false,
            ..b
        },
        MempoolVariant::V3_6 => b,
        MempoolVariant::F9054c70 => VariantRules {
            force_nomemalloc: false,
            nomemalloc_only_if_elements: true,
            ..b
        },
        MempoolVariant::Hocko1 => VariantRules {
            memdie_gets_reserves: true,
            ..b
        },
        MempoolVariant::Hocko2 => VariantRules {
            memdie_gets_reserves: true,
            less_throttle: true,
            ..b
        },
        MempoolVariant::Neilbrown => VariantRules {
            immediate_reclaim_retry: false,
            never_direct_reclaim: true,
            ..b
        },
        MempoolVariant::Transient => VariantRules {
            memdie_gets_reserves: true,
            transient: true,
            ..b
        },
    }
}

/// Starts a `mempool_alloc(pool, gfp_mask)` for `want` elements.
///
/// Aggregation: the kernel allocates one element per call and the caller uses it at once,
/// so a waiter never holds elements. A batch therefore returns as soon as it has some
/// elements and would otherwise wait — unless `hold_partial` says the caller really keeps
/// every element until it has all of them (dm's clones on `current->bio_list`).
pub fn begin(
    ctx: &mut Ctx,
    task: usize,
    pool: usize,
    gfp_mask: Gfp,
    want: u64,
    hold_partial: bool,
) {
    debug_assert!(ctx.st.tasks[task].mempool.is_none(), "nested mempool_alloc");
    let r = rules(ctx.st.knobs.mempool_variant);
    let mut mask = gfp_mask.with(Gfp::NORETRY).with(Gfp::NOWARN);
    if r.force_nomemalloc {
        mask = mask.with(Gfp::NOMEMALLOC);
    }
    if r.transient {
        mask = mask.with(Gfp::TRANSIENT);
    }
    let t = &mut ctx.st.tasks[task];
    let saved_less_throttle = t.flags.less_throttle;
    if r.less_throttle && mask.can_direct_reclaim() {
        t.flags.less_throttle = true;
    }
    t.mempool = Some(MempoolCtx {
        pool,
        gfp_mask: mask,
        gfp_temp: mask.without(Gfp::DIRECT_RECLAIM).without(Gfp::IO),
        want,
        got: 0,
        after_wait: false,
        saved_less_throttle,
        cache_objs: 0,
        carried_pages: 0,
        carried_pfmemalloc: 0,
        page_want: 0,
        page_gfp: Gfp::default(),
        in_page_alloc: false,
        nested: false,
        hold_partial,
    });
}

/// Drives the task's `mempool_alloc`. Elements obtained are in `ctx.got` of the task's
/// `MempoolCtx`; on `Done`/`Fail` the context is removed and the count returned in `*got`.
pub fn mempool_alloc(ctx: &mut Ctx, task: usize, got: &mut u64) -> Step {
    let mut mc = ctx.st.tasks[task]
        .mempool
        .clone()
        .expect("mempool_alloc without a call");
    let step = alloc_loop(ctx, task, &mut mc);
    match step {
        Step::Done | Step::Fail => {
            *got = mc.got;
            ctx.st.tasks[task].flags.less_throttle = mc.saved_less_throttle;
            ctx.st.tasks[task].mempool = None;
        }
        Step::Sleep | Step::Yield => ctx.st.tasks[task].mempool = Some(mc),
    }
    step
}

fn alloc_loop(ctx: &mut Ctx, task: usize, mc: &mut MempoolCtx) -> Step {
    let r = rules(ctx.st.knobs.mempool_variant);
    let pool = mc.pool;
    for _ in 0..4 {
        // Resuming a pool->alloc that slept inside the page allocator.
        if !mc.in_page_alloc {
            if mc.after_wait {
                mc.after_wait = false;
            }
            let mut temp = mc.gfp_temp;
            if r.nomemalloc_only_if_elements {
                temp = if ctx.st.pools[pool].curr_nr > 0 {
                    temp.with(Gfp::NOMEMALLOC)
                } else {
                    temp.without(Gfp::NOMEMALLOC)
                };
            }
            if r.memdie_gets_reserves
                && ctx.st.pools[pool].curr_nr == 0
                && ctx.st.tasks[task].flags.memdie
            {
                temp = temp.without(Gfp::NOMEMALLOC);
            }
            if r.never_direct_reclaim {
                temp = temp.without(Gfp::DIRECT_RECLAIM);
            }
            let need = mc.want - mc.got;
            begin_element_alloc(ctx, task, mc, temp, need);
        }
        let mut new_elements = 0;
        match element_alloc(ctx, task, mc, &mut new_elements) {
            Step::Sleep => return Step::Sleep,
            Step::Yield => return Step::Yield,
            Step::Done | Step::Fail => {}
        }
        mc.got += new_elements;
        ctx.st.pools[pool].outstanding += new_elements;
        if mc.got == mc.want {
            return Step::Done;
        }
        // The pool check.
        let p = &mut ctx.st.pools[pool];
        let take = p.curr_nr.min(mc.want - mc.got);
        if take > 0 {
            p.curr_nr -= take;
            p.outstanding += take;
            mc.got += take;
            let curr_nr = p.curr_nr;
            ctx.emit(Event::MempoolTakeElement {
                task,
                pool,
                curr_nr,
            });
            if mc.got == mc.want {
                return Step::Done;
            }
        }
        if mc.got > 0 && !mc.hold_partial {
            return Step::Done;
        }
        // First round: retry at once with direct reclaim allowed (B, C, D, E, transient).
        let first_round = !mc.gfp_temp.has(Gfp::DIRECT_RECLAIM);
        if r.immediate_reclaim_retry && first_round && mc.gfp_mask.can_direct_reclaim() {
            mc.gfp_temp = mc.gfp_mask;
            continue;
        }
        if !mc.gfp_mask.can_direct_reclaim() {
            return Step::Fail;
        }
        // Wait on pool->wait for up to 5 s, then go round with the full mask.
        mc.gfp_temp = mc.gfp_mask;
        mc.after_wait = true;
        ctx.sleep(
            task,
            SleepFn::MempoolAlloc,
            MEMPOOL_WAIT_TICKS,
            WaitQueue::Pool(pool),
        );
        return Step::Sleep;
    }
    Step::Yield
}

/// Starts `pool->alloc(gfp)` for `need` elements: slab objects first come from the
/// cache's free objects; whatever is left needs fresh pages from the page allocator.
fn begin_element_alloc(ctx: &mut Ctx, task: usize, mc: &mut MempoolCtx, gfp: Gfp, need: u64) {
    let pages = match ctx.cfg.pools[mc.pool].element {
        PoolElement::Page => need,
        PoolElement::Slab { objs_per_slab, .. } => {
            mc.cache_objs = take_slab_objects(ctx, task, mc.pool, gfp, need);
            (need - mc.cache_objs).div_ceil(objs_per_slab)
        }
    };
    mc.carried_pages = 0;
    mc.carried_pfmemalloc = 0;
    mc.page_want = pages;
    mc.page_gfp = gfp;
    mc.in_page_alloc = true;
    // A task already inside reclaim (PF_MEMALLOC: kswapd, a direct reclaimer submitting
    // swap) never re-enters reclaim: its allocation is a one-shot attempt (below).
    mc.nested = ctx.st.tasks[task].flags.memalloc;
    if pages > 0 && !mc.nested {
        page_alloc::begin(ctx, task, gfp, pages);
    }
}

/// Objects from the pool's slab cache. With PFMEMALLOC reserves on (3.6, §7.3), objects of
/// a slab built from a pfmemalloc page go only to callers allowed the reserve.
fn take_slab_objects(ctx: &mut Ctx, task: usize, pool: usize, gfp: Gfp, need: u64) -> u64 {
    let allowed = !ctx.st.knobs.pfmemalloc_reserves
        || gfp_to_alloc_flags(gfp, ctx.st.tasks[task].flags, ctx.st.knobs.alloc_slowpath)
            .no_watermarks;
    let p = &mut ctx.st.pools[pool];
    let normal = p.slab_free_objs.min(need);
    p.slab_free_objs -= normal;
    let mut got = normal;
    if allowed {
        let pf = p.slab_free_objs_pfmemalloc.min(need - got);
        p.slab_free_objs_pfmemalloc -= pf;
        got += pf;
    }
    got
}

/// Drives the page allocation behind `pool->alloc`; converts pages into elements.
fn element_alloc(ctx: &mut Ctx, task: usize, mc: &mut MempoolCtx, new_elements: &mut u64) -> Step {
    let pool = mc.pool;
    let mut pages = 0;
    let step = if mc.page_want == 0 {
        Step::Done
    } else if mc.nested {
        // Nested in reclaim: __alloc_pages_slowpath fails for PF_MEMALLOC right after the
        // no-watermarks try, so the attempt cannot sleep and needs no saved context.
        let pf_before = ctx.pfmemalloc_pages();
        mc.carried_pages +=
            page_alloc::alloc_no_reclaim(ctx, task, mc.page_want, mc.page_gfp, PageUse::Kernel);
        mc.carried_pfmemalloc += ctx.pfmemalloc_pages() - pf_before;
        Step::Done
    } else {
        let pf_before = ctx.pfmemalloc_pages();
        let s = page_alloc::alloc_pages(ctx, task, PageUse::Kernel, &mut pages);
        mc.carried_pfmemalloc += ctx.pfmemalloc_pages() - pf_before;
        mc.carried_pages += pages;
        if matches!(s, Step::Sleep | Step::Yield) {
            // Pages obtained so far stay with the call until it resumes.
            return s;
        }
        s
    };
    let pages = mc.carried_pages;
    let pfmemalloc_pages = mc.carried_pfmemalloc.min(pages);
    match ctx.cfg.pools[pool].element {
        PoolElement::Page => *new_elements += pages,
        PoolElement::Slab { objs_per_slab, .. } => {
            let objs = pages * objs_per_slab;
            let need = (mc.want - mc.got).saturating_sub(mc.cache_objs);
            let used = objs.min(need);
            let p = &mut ctx.st.pools[pool];
            p.slab_pages += pages;
            // Leftover objects of the new slabs go to the cache, tagged by page->pfmemalloc.
            let leftover = objs - used;
            let pf_objs = (pfmemalloc_pages * objs_per_slab).min(leftover);
            p.slab_free_objs_pfmemalloc += pf_objs;
            p.slab_free_objs += leftover - pf_objs;
            *new_elements += used + mc.cache_objs;
        }
    }
    mc.cache_objs = 0;
    mc.carried_pages = 0;
    mc.carried_pfmemalloc = 0;
    mc.page_want = 0;
    mc.in_page_alloc = false;
    step
}

/// `mempool_free` of `n` elements: refill the reserve up to `min_nr` (waking `pool->wait`),
/// give the rest back to the allocator.
pub fn mempool_free(ctx: &mut Ctx, pool: usize, n: u64) {
    if n == 0 {
        return;
    }
    let min_nr = ctx.cfg.pools[pool].min_nr;
    let p = &mut ctx.st.pools[pool];
    assert!(
        p.outstanding >= n,
        "mempool_free of more elements than are outstanding"
    );
    p.outstanding -= n;
    let refill = (min_nr - p.curr_nr).min(n);
    p.curr_nr += refill;
    let to_allocator = n - refill;
    if refill > 0 {
        let curr_nr = p.curr_nr;
        ctx.emit(Event::MempoolRefill { pool, curr_nr });
        ctx.wake_queue(WaitQueue::Pool(pool));
    }
    if to_allocator == 0 {
        return;
    }
    match ctx.cfg.pools[pool].element {
        PoolElement::Page => ctx.free_kernel_pages(to_allocator),
        PoolElement::Slab {
            objs_per_slab,
            empty_slabs_kept,
        } => {
            // One cache, however wide the machine: dm's io cache and the bio slabs are
            // global, shared by every device's pool (`bio_find_or_create_slab`).
            let keep = empty_slabs_kept * objs_per_slab;
            let p = &mut ctx.st.pools[pool];
            p.slab_free_objs += to_allocator;
            // kmem_cache_free: SLUB discards a slab that became empty only once the node
            // already holds `min_partial` partial slabs (v4.7 `__slab_free`; per-CPU
            // partial lists keep more). The model has no partial lists: it keeps
            // `empty_slabs_kept` slabs' worth of free objects and gives whole empty slabs
            // back beyond that (docs/scenarios.md says why it matters to swap on dm-crypt).
            let free_objs = p.slab_free_objs + p.slab_free_objs_pfmemalloc;
            if free_objs >= keep + objs_per_slab {
                let pages = ((free_objs - keep) / objs_per_slab).min(p.slab_pages);
                let mut objs = pages * objs_per_slab;
                let from_pf = objs.min(p.slab_free_objs_pfmemalloc);
                p.slab_free_objs_pfmemalloc -= from_pf;
                objs -= from_pf;
                p.slab_free_objs -= objs.min(p.slab_free_objs);
                p.slab_pages -= pages;
                ctx.free_kernel_pages(pages);
            }
        }
    }
}

/// Pre-fills a pool with `min_nr` elements at creation (`mempool_create`, GFP_KERNEL).
pub fn prefill(ctx: &mut Ctx, pool: usize) {
    let min_nr = ctx.cfg.pools[pool].min_nr;
    let pages = match ctx.cfg.pools[pool].element {
        PoolElement::Page => min_nr,
        PoolElement::Slab { objs_per_slab, .. } => min_nr.div_ceil(objs_per_slab),
    };
    let zone = ctx.st.zones.len() - 1;
    let z = &mut ctx.st.zones[zone];
    let pages = pages.min(z.free);
    z.free -= pages;
    z.kernel += pages;
    let p = &mut ctx.st.pools[pool];
    p.curr_nr = min_nr;
    if let PoolElement::Slab { objs_per_slab, .. } = ctx.cfg.pools[pool].element {
        p.slab_pages = pages;
        p.slab_free_objs = pages * objs_per_slab - min_nr;
    }
}
