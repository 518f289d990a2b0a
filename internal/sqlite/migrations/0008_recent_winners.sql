-- The roulette state shows the last few winners on every refresh: this index
-- finds them without walking the cycles that had none (a channel whose
-- candidates are mostly offline would otherwise read its whole history).
CREATE INDEX spin_cycles_winners ON spin_cycles (window_start) WHERE outcome = 'winner';
