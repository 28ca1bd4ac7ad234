// The verification-trial fixture written by test/reference/metrics_verification.py (sklearn roc_curve,
// det_curve, the EER recipe and a numpy minDCF), shared by the ROC, EER and minDCF tests.
import { fixture } from '../helpers';

export interface VerificationCase {
  name: string;
  scores: number[];
  labels: number[];
  roc: { fpr: number[]; tpr: number[]; thresholds_tail: number[] };
  roc_full: { fpr: number[]; tpr: number[]; thresholds_tail: number[] };
  det: { fpr: number[]; fnr: number[]; thresholds: number[] };
  eer: number;
  eer_threshold: number;
  /** threshold null stands for +Infinity (reject every trial), which JSON cannot hold. */
  min_dcf: { p_target: number; c_miss: number; c_fa: number; min_dcf: number; threshold: number | null }[];
}

export const verificationCases = fixture<{ cases: VerificationCase[] }>('metrics_verification').cases;
