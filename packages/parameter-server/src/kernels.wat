;; The parameter server's inner loops as WebAssembly SIMD: the flat
;; optimizers' update rules (f32x4) and the shard's gradient sum and mean
;; (f64x2). Assembled into src/kernels-wasm.ts by scripts/assemble-kernels.ts
;; (wabt); kernel-memory.test.ts re-assembles this file and checks the
;; committed bytes match. Keep it ASCII: wabt's lexer misreads some UTF-8
;; bytes, even in comments.
;;
;; Exactness: each rule is the reference loop's (src/testing/reference-optimizers.ts,
;; equal to tfjs on the cpu backend) operation for operation, in its order.
;; WebAssembly's f32 and f64 add, sub, mul, div and sqrt, scalar or per lane,
;; are IEEE 754 correctly rounded with subnormals (no flush to zero), so each
;; equals the reference's Math.fround of the double result (53 >= 2*24 + 2
;; bits make double-then-float32 rounding innocuous); promote is exact and
;; demote rounds to nearest even, as a Float32Array store does. None of these
;; instructions fuses a multiply and an add. Only the payload bits of a NaN
;; may differ from JavaScript's.
;;
;; Calling convention: pointers are byte addresses in the imported memory;
;; `n` counts elements. Every function runs a four-wide loop over the first
;; n - n mod 4 elements, then a scalar loop over the rest with the same
;; operations. Float32 arrays need only 4-byte alignment, float64 8-byte.
(module
  (memory (import "env" "memory") 1)

  ;; w <- f32(c*g) + w, with c = f32(-lr).
  (func (export "sgd") (param $w i32) (param $g i32) (param $n i32) (param $negLr f32)
    (local $i i32) (local $end i32) (local $vend i32) (local $C v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $C (f32x4.splat (local.get $negLr)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (v128.store align=4 (i32.add (local.get $w) (local.get $i))
          (f32x4.add
            (f32x4.mul (local.get $C) (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
            (v128.load align=4 (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (f32.store (i32.add (local.get $w) (local.get $i))
          (f32.add
            (f32.mul (local.get $negLr) (f32.load (i32.add (local.get $g) (local.get $i))))
            (f32.load (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end))))))

  ;; a <- f32(m*a) + g, then w <- f32(c*a) + w.
  (func (export "momentum") (param $w i32) (param $g i32) (param $acc i32) (param $n i32) (param $m f32) (param $negLr f32)
    (local $i i32) (local $end i32) (local $vend i32) (local $M v128) (local $C v128) (local $a v128) (local $as f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $M (f32x4.splat (local.get $m)))
    (local.set $C (f32x4.splat (local.get $negLr)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (local.set $a
          (f32x4.add
            (f32x4.mul (local.get $M) (v128.load align=4 (i32.add (local.get $acc) (local.get $i))))
            (v128.load align=4 (i32.add (local.get $g) (local.get $i)))))
        (v128.store align=4 (i32.add (local.get $acc) (local.get $i)) (local.get $a))
        (v128.store align=4 (i32.add (local.get $w) (local.get $i))
          (f32x4.add
            (f32x4.mul (local.get $C) (local.get $a))
            (v128.load align=4 (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (local.set $as
          (f32.add
            (f32.mul (local.get $m) (f32.load (i32.add (local.get $acc) (local.get $i))))
            (f32.load (i32.add (local.get $g) (local.get $i)))))
        (f32.store (i32.add (local.get $acc) (local.get $i)) (local.get $as))
        (f32.store (i32.add (local.get $w) (local.get $i))
          (f32.add
            (f32.mul (local.get $negLr) (local.get $as))
            (f32.load (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end))))))

  ;; a <- f32(m*a) + g, then w <- f32(c*f32(g + f32(a*m))) + w.
  (func (export "nesterov") (param $w i32) (param $g i32) (param $acc i32) (param $n i32) (param $m f32) (param $negLr f32)
    (local $i i32) (local $end i32) (local $vend i32) (local $M v128) (local $C v128)
    (local $gv v128) (local $a v128) (local $gs f32) (local $as f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $M (f32x4.splat (local.get $m)))
    (local.set $C (f32x4.splat (local.get $negLr)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $a
          (f32x4.add
            (f32x4.mul (local.get $M) (v128.load align=4 (i32.add (local.get $acc) (local.get $i))))
            (local.get $gv)))
        (v128.store align=4 (i32.add (local.get $acc) (local.get $i)) (local.get $a))
        (v128.store align=4 (i32.add (local.get $w) (local.get $i))
          (f32x4.add
            (f32x4.mul (local.get $C) (f32x4.add (local.get $gv) (f32x4.mul (local.get $a) (local.get $M))))
            (v128.load align=4 (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $as
          (f32.add
            (f32.mul (local.get $m) (f32.load (i32.add (local.get $acc) (local.get $i))))
            (local.get $gs)))
        (f32.store (i32.add (local.get $acc) (local.get $i)) (local.get $as))
        (f32.store (i32.add (local.get $w) (local.get $i))
          (f32.add
            (f32.mul (local.get $negLr) (f32.add (local.get $gs) (f32.mul (local.get $as) (local.get $m))))
            (f32.load (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end))))))

  ;; m <- f32(m*beta1) + f32(g*(1-beta1)), v <- f32(v*beta2) + f32(f32(g*g)*(1-beta2)),
  ;; w <- f32(f32(f32(m / c1) / f32(f32(sqrtf32(v / c2)) + eps))*(-lr)) + w
  ;; with c_k = f32(1 - accBeta_k): tfjs's divisions, not adam-optimizer.ts's
  ;; reciprocals (a division per lane costs little here).
  (func (export "adam") (param $w i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $beta1 f32) (param $beta2 f32) (param $oneMinusBeta1 f32) (param $oneMinusBeta2 f32)
    (param $c1 f32) (param $c2 f32) (param $epsilon f32) (param $negLr f32)
    (local $i i32) (local $end i32) (local $vend i32)
    (local $B1 v128) (local $B2 v128) (local $O1 v128) (local $O2 v128)
    (local $C1 v128) (local $C2 v128) (local $E v128) (local $NL v128)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $gs f32) (local $ms f32) (local $vs f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $B1 (f32x4.splat (local.get $beta1)))
    (local.set $B2 (f32x4.splat (local.get $beta2)))
    (local.set $O1 (f32x4.splat (local.get $oneMinusBeta1)))
    (local.set $O2 (f32x4.splat (local.get $oneMinusBeta2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $E (f32x4.splat (local.get $epsilon)))
    (local.set $NL (f32x4.splat (local.get $negLr)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $mv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $m) (local.get $i))) (local.get $B1))
            (f32x4.mul (local.get $gv) (local.get $O1))))
        (local.set $vv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $v) (local.get $i))) (local.get $B2))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $O2))))
        (v128.store align=4 (i32.add (local.get $m) (local.get $i)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $v) (local.get $i)) (local.get $vv))
        (v128.store align=4 (i32.add (local.get $w) (local.get $i))
          (f32x4.add
            (f32x4.mul
              (f32x4.div
                (f32x4.div (local.get $mv) (local.get $C1))
                (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $C2))) (local.get $E)))
              (local.get $NL))
            (v128.load align=4 (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $ms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $m) (local.get $i))) (local.get $beta1))
            (f32.mul (local.get $gs) (local.get $oneMinusBeta1))))
        (local.set $vs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $v) (local.get $i))) (local.get $beta2))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusBeta2))))
        (f32.store (i32.add (local.get $m) (local.get $i)) (local.get $ms))
        (f32.store (i32.add (local.get $v) (local.get $i)) (local.get $vs))
        (f32.store (i32.add (local.get $w) (local.get $i))
          (f32.add
            (f32.mul
              (f32.div
                (f32.div (local.get $ms) (local.get $c1))
                (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $epsilon)))
              (local.get $negLr))
            (f32.load (i32.add (local.get $w) (local.get $i)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end))))))

  ;; ms <- f32(ms*rho) + f32(f32(g*g)*(1-rho)),
  ;; mom <- f32(mom*mu) + f32(f32(g*lr) / f32(sqrtf32(ms + eps))), w <- w - mom.
  (func (export "rmsprop") (param $w i32) (param $g i32) (param $ms i32) (param $mom i32) (param $n i32)
    (param $decay f32) (param $momentum f32) (param $epsilon f32) (param $oneMinusDecay f32) (param $lr f32)
    (local $i i32) (local $end i32) (local $vend i32)
    (local $D v128) (local $MU v128) (local $E v128) (local $OD v128) (local $LR v128)
    (local $gv v128) (local $msv v128) (local $momv v128)
    (local $gs f32) (local $mss f32) (local $moms f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $D (f32x4.splat (local.get $decay)))
    (local.set $MU (f32x4.splat (local.get $momentum)))
    (local.set $E (f32x4.splat (local.get $epsilon)))
    (local.set $OD (f32x4.splat (local.get $oneMinusDecay)))
    (local.set $LR (f32x4.splat (local.get $lr)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $msv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $ms) (local.get $i))) (local.get $D))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $OD))))
        (local.set $momv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $mom) (local.get $i))) (local.get $MU))
            (f32x4.div
              (f32x4.mul (local.get $gv) (local.get $LR))
              (f32x4.sqrt (f32x4.add (local.get $msv) (local.get $E))))))
        (v128.store align=4 (i32.add (local.get $ms) (local.get $i)) (local.get $msv))
        (v128.store align=4 (i32.add (local.get $mom) (local.get $i)) (local.get $momv))
        (v128.store align=4 (i32.add (local.get $w) (local.get $i))
          (f32x4.sub (v128.load align=4 (i32.add (local.get $w) (local.get $i))) (local.get $momv)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $mss
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $ms) (local.get $i))) (local.get $decay))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusDecay))))
        (local.set $moms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $mom) (local.get $i))) (local.get $momentum))
            (f32.div
              (f32.mul (local.get $gs) (local.get $lr))
              (f32.sqrt (f32.add (local.get $mss) (local.get $epsilon))))))
        (f32.store (i32.add (local.get $ms) (local.get $i)) (local.get $mss))
        (f32.store (i32.add (local.get $mom) (local.get $i)) (local.get $moms))
        (f32.store (i32.add (local.get $w) (local.get $i))
          (f32.sub (f32.load (i32.add (local.get $w) (local.get $i))) (local.get $moms)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end))))))

  ;; Centered: also mg <- f32(mg*rho) + f32(g*(1-rho)), and the root's argument is
  ;; f32(ms - f32(f32(mg*mg) + eps)) (tfjs 4.22's order; see rmsprop-optimizer.ts).
  (func (export "rmspropCentered") (param $w i32) (param $g i32) (param $ms i32) (param $mom i32) (param $mg i32) (param $n i32)
    (param $decay f32) (param $momentum f32) (param $epsilon f32) (param $oneMinusDecay f32) (param $lr f32)
    (local $i i32) (local $end i32) (local $vend i32)
    (local $D v128) (local $MU v128) (local $E v128) (local $OD v128) (local $LR v128)
    (local $gv v128) (local $msv v128) (local $mgv v128) (local $momv v128)
    (local $gs f32) (local $mss f32) (local $mgs f32) (local $moms f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $D (f32x4.splat (local.get $decay)))
    (local.set $MU (f32x4.splat (local.get $momentum)))
    (local.set $E (f32x4.splat (local.get $epsilon)))
    (local.set $OD (f32x4.splat (local.get $oneMinusDecay)))
    (local.set $LR (f32x4.splat (local.get $lr)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $msv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $ms) (local.get $i))) (local.get $D))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $OD))))
        (local.set $mgv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $mg) (local.get $i))) (local.get $D))
            (f32x4.mul (local.get $gv) (local.get $OD))))
        (local.set $momv
          (f32x4.add
            (f32x4.mul (v128.load align=4 (i32.add (local.get $mom) (local.get $i))) (local.get $MU))
            (f32x4.div
              (f32x4.mul (local.get $gv) (local.get $LR))
              (f32x4.sqrt
                (f32x4.sub
                  (local.get $msv)
                  (f32x4.add (f32x4.mul (local.get $mgv) (local.get $mgv)) (local.get $E)))))))
        (v128.store align=4 (i32.add (local.get $ms) (local.get $i)) (local.get $msv))
        (v128.store align=4 (i32.add (local.get $mg) (local.get $i)) (local.get $mgv))
        (v128.store align=4 (i32.add (local.get $mom) (local.get $i)) (local.get $momv))
        (v128.store align=4 (i32.add (local.get $w) (local.get $i))
          (f32x4.sub (v128.load align=4 (i32.add (local.get $w) (local.get $i))) (local.get $momv)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $mss
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $ms) (local.get $i))) (local.get $decay))
            (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $oneMinusDecay))))
        (local.set $mgs
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $mg) (local.get $i))) (local.get $decay))
            (f32.mul (local.get $gs) (local.get $oneMinusDecay))))
        (local.set $moms
          (f32.add
            (f32.mul (f32.load (i32.add (local.get $mom) (local.get $i))) (local.get $momentum))
            (f32.div
              (f32.mul (local.get $gs) (local.get $lr))
              (f32.sqrt
                (f32.sub
                  (local.get $mss)
                  (f32.add (f32.mul (local.get $mgs) (local.get $mgs)) (local.get $epsilon)))))))
        (f32.store (i32.add (local.get $ms) (local.get $i)) (local.get $mss))
        (f32.store (i32.add (local.get $mg) (local.get $i)) (local.get $mgs))
        (f32.store (i32.add (local.get $mom) (local.get $i)) (local.get $moms))
        (f32.store (i32.add (local.get $w) (local.get $i))
          (f32.sub (f32.load (i32.add (local.get $w) (local.get $i))) (local.get $moms)))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end))))))

  ;; The shard's accumulation: sum[k] <- sum[k] + count*x[k] in float64 (sum
  ;; is float64, x float32). Returns 1 when every x is finite, else 0: x - x
  ;; is 0 for finite x and NaN otherwise, summed into a probe (no branch).
  (func (export "addScaled") (param $sum i32) (param $x i32) (param $n i32) (param $count f64) (result i32)
    (local $i i32) (local $end i32) (local $vend i32) (local $s i32)
    (local $N v128) (local $xv v128) (local $probe v128) (local $xs f32) (local $p f32)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $N (f64x2.splat (local.get $count)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (local.set $xv (v128.load align=4 (i32.add (local.get $x) (local.get $i))))
        (local.set $probe (f32x4.add (local.get $probe) (f32x4.sub (local.get $xv) (local.get $xv))))
        ;; sum's elements k, k+1 at sum + 2i, k+2, k+3 16 bytes on.
        (local.set $s (i32.add (local.get $sum) (i32.shl (local.get $i) (i32.const 1))))
        (v128.store align=8 (local.get $s)
          (f64x2.add
            (v128.load align=8 (local.get $s))
            (f64x2.mul (local.get $N) (f64x2.promote_low_f32x4 (local.get $xv)))))
        (v128.store offset=16 align=8 (local.get $s)
          (f64x2.add
            (v128.load offset=16 align=8 (local.get $s))
            (f64x2.mul
              (local.get $N)
              (f64x2.promote_low_f32x4
                (i8x16.shuffle 8 9 10 11 12 13 14 15 8 9 10 11 12 13 14 15 (local.get $xv) (local.get $xv))))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (local.set $xs (f32.load (i32.add (local.get $x) (local.get $i))))
        (local.set $p (f32.add (local.get $p) (f32.sub (local.get $xs) (local.get $xs))))
        (local.set $s (i32.add (local.get $sum) (i32.shl (local.get $i) (i32.const 1))))
        (f64.store (local.get $s)
          (f64.add (f64.load (local.get $s)) (f64.mul (local.get $count) (f64.promote_f32 (local.get $xs)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end)))))
    (i32.and
      (i32x4.all_true (f32x4.eq (local.get $probe) (v128.const i32x4 0 0 0 0)))
      (f32.eq (local.get $p) (f32.const 0))))

  ;; mean[k] <- f32(sum[k] / samples): float64 division, then rounded to
  ;; float32. `mean` may lie over `sum`'s own memory at or below it (the
  ;; shard writes element k's mean inside float64 element floor(k/2)): every
  ;; iteration loads its sums before it stores, and its store ends at or
  ;; below the first byte a later iteration loads.
  (func (export "mean") (param $sum i32) (param $mean i32) (param $n i32) (param $samples f64)
    (local $i i32) (local $end i32) (local $vend i32) (local $s i32) (local $S v128)
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $vend (i32.and (local.get $end) (i32.const -16)))
    (local.set $S (f64x2.splat (local.get $samples)))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $vend)))
      (loop $next
        (local.set $s (i32.add (local.get $sum) (i32.shl (local.get $i) (i32.const 1))))
        (v128.store align=4 (i32.add (local.get $mean) (local.get $i))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
            (f32x4.demote_f64x2_zero (f64x2.div (v128.load align=8 (local.get $s)) (local.get $S)))
            (f32x4.demote_f64x2_zero (f64x2.div (v128.load offset=16 align=8 (local.get $s)) (local.get $S)))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (local.get $vend)))))
    (block $done
      (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
      (loop $next
        (f32.store (i32.add (local.get $mean) (local.get $i))
          (f32.demote_f64
            (f64.div
              (f64.load (i32.add (local.get $sum) (i32.shl (local.get $i) (i32.const 1))))
              (local.get $samples))))
        (br_if $next (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (local.get $end)))))))
