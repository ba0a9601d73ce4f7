<?php
use local_ltibadges\local\contract;
use local_ltibadges\local\paging;

function test_paging_offsets_and_hasmore(): void {
    $paging = new paging(0, 500);
    check_same(0, $paging->offset());
    check_true($paging->hasmore(501));
    check_same(false, $paging->hasmore(500));
    check_same(false, $paging->hasmore(0));
    $paging = new paging(9, 500);
    check_same(4500, $paging->offset());
    check_true($paging->hasmore(5001));
    check_same(false, $paging->hasmore(5000));
}

function test_paging_every_user_on_exactly_one_page(): void {
    // 5,003 learners in pages of 500: 11 pages, the last holds 3, hasmore false only on it.
    $total = 5003;
    $seen = 0;
    for ($page = 0;; $page++) {
        $paging = new paging($page, 500);
        $onpage = max(0, min($paging->perpage, $total - $paging->offset()));
        $seen += $onpage;
        if (!$paging->hasmore($total)) {
            break;
        }
    }
    check_same(10, $page);
    check_same($total, $seen);
}

function test_paging_perpage_lowered_to_max_and_bad_values_refused(): void {
    check_same(contract::MAX_PERPAGE, (new paging(0, 100000))->perpage);
    check_same(2000, contract::MAX_PERPAGE);
    check_same(500, contract::DEFAULT_PERPAGE);
    check_same(1, (new paging(0, 1))->perpage);
    check_throws(InvalidArgumentException::class, function () {
        new paging(-1, 500);
    });
    check_throws(InvalidArgumentException::class, function () {
        new paging(0, 0);
    });
}

function test_paging_id_range(): void {
    check_same(null, paging::id_range([]));
    check_same([4, 90], paging::id_range([17, 4, 90, 5]));
    check_same([7, 7], paging::id_range([7]));
}

function test_paging_hidden_flag(): void {
    check_same(false, paging::is_hidden(0, 1000));
    check_true(paging::is_hidden(1, 1000));
    check_true(paging::is_hidden(2000, 1000), 'hidden until later');
    check_same(false, paging::is_hidden(500, 1000), 'hidden until a past time');
}
