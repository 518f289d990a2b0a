// Wire types of the EBS routes the panel calls (camelCase JSON, ebs.md).

export type SpinPhase = 'idle' | 'collecting' | 'spinning' | 'verification' | 'completed' | 'paused';

/** Why the roulette is paused (spinPhase "paused"). */
export type PausedReason = 'streamer' | 'budget' | 'offline';

export interface LastCycle {
  spinCycleId: string;
  outcome: 'winner' | 'no_winner' | 'no_participants' | string;
  winnerCharacterName: string | null;
  candidateCharacterName: string | null;
  decidedAt: string;
}

export interface RouletteState {
  nextSpinAt: string;
  serverNow: string;
  spinIntervalSeconds: number;
  poolParticipantCount: number;
  spinPhase: SpinPhase | string;
  currentSpinCycleId: string | null;
  candidateCharacterName: string | null;
  lastCycle: LastCycle | null;
  /**
   * hex SHA-256 of the current cycle's secret draw seed, published before its
   * draw (null when there is none); absent from an EBS without draw proofs.
   */
  drawCommitment?: string | null;
  poolCharacterNames?: string[];
  /** Newest first; absent from an older EBS. */
  recentWinners?: { characterName: string; at: string }[];
  /** Set exactly when spinPhase is "paused"; absent from an older EBS. */
  pausedReason?: PausedReason | string | null;
}

export interface PoolMe {
  isEnrolled: boolean;
  characterName: string | null;
  /** Sent + active payouts' gold; absent from an older EBS. */
  lifetimeGoldCommitted?: number;
  /** 10,000; absent from an older EBS. */
  lifetimeCapGold?: number;
  /** When a recent winner's cooldown ends (they may be drawn again); null when none holds; absent from an older EBS. */
  eligibleAgainAt?: string | null;
}

export type PayoutStatus = 'Pending' | 'InProgress' | 'Sent' | 'Failed' | 'Cancelled' | 'Expired';

export interface Payout {
  id: string;
  twitchUserId: string;
  twitchDisplayName: string;
  characterName: string;
  goldAmount: number;
  enrollmentRequestId: string;
  status: PayoutStatus | string;
  createdAt: string;
  isRewardSentAnnouncedToChat: boolean;
  updatedAt?: string;
  acceptedAt?: string | null;
  spinCycleId?: string | null;
}

export interface GiftItem {
  name: string;
  id: number;
  count: number;
  link: string;
  texture: string;
  bagId: number;
  slotId: number;
}

export type GiftState = 'Pending' | 'SelectingItem' | 'WaitingConfirmation' | 'Completed' | 'Failed';

export interface GiftRequest {
  id: string;
  streamerId: string;
  viewerId: string;
  viewerDisplayName: string;
  characterName: string;
  state: GiftState | string;
  selectedItem: GiftItem | null;
  queuePosition: number;
  estimatedWaitSeconds: number;
  createdAt: string;
  updatedAt: string;
  timeoutAt: string | null;
  failureReason: string | null;
}

export interface VersionInfo {
  version: string;
  releaseNotesUrl: string | null;
  minimumDesktopVersion: string | null;
  minimumAddonVersion: string | null;
  minimumExtensionVersion: string | null;
}

/** The standard error body of every EBS error response. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}
