[
  (task_block)
  (impl_block)
  (block)
  (parameter_list)
  (argument_list)
  (entry_block)
  (expression_list)
  (list)
  (object)
  (raw_string)
  (block_comment)
] @fold
