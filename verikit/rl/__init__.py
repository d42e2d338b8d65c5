"""Reinforcement learning with process rewards: step-level PPO (Math-Shepherd's), ORM-PPO, RFT, and
process advantages for GRPO. TRL removed its PPOTrainer, so the PPO here is verikit's own (pure PyTorch on
``transformers`` models; CUDA when present); GRPO builds on ``trl.GRPOTrainer``."""
